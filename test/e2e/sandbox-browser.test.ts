import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rm, stat } from 'node:fs/promises';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { freePort, nodeHealthServer, startSupervisord, type Supervisord } from '../helpers/supervisord.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { programPath, requires } from '../helpers/requires.js';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// The README's picture comes from test/e2e/sandbox-look.test.ts, which runs the example catalog.
const SCREENSHOT = join(tmpdir(), `switchboard-sandbox-${process.pid}.png`);
const TOKEN = 'sandbox-browser-test-token';

let supervisord: Supervisord;
let database: Awaited<ReturnType<typeof createTempDatabase>>;
let switchboard: Switchboard;
let browser: Browser;
let page: Page;

const catalogYaml = (healthPort: number, supervisorUrl: string) => `
version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - { name: gateway, kind: http, url: "http://127.0.0.1:${healthPort}/health", expect: { json: { status: healthy } }, timeout: 2s }
    restart:
      kind: supervisor
      url: ${supervisorUrl}
      programs: [gateway-proxy]
      verify: { timeout: 20s, interval: 500ms }
escalationPolicies:
  gateway-oncall:
    levels:
      - { delay: 0s, targets: [{ user: U0ONCALL01 }] }
routes:
  - name: gateway
    match: { service: api-gateway }
    channel: "#ops-gateway"
    escalation: gateway-oncall
    buttons: { ServiceDown: [service.health, service.restart] }
`;

function notification(startsAt: string) {
  const labels = { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', instance: 'gateway-1:5000' };
  return {
    version: '4',
    groupKey: '{}:{alertname="ServiceDown", service="api-gateway"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'switchboard',
    groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
    commonLabels: labels,
    commonAnnotations: { summary: 'API gateway is unreachable', description: 'gateway-1:5000 has not answered Prometheus for more than 1 minute' },
    externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels, annotations: {}, startsAt, endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: 'a1b2c3d4e5f60718' }],
  };
}

beforeAll(async () => {
  const healthPort = await freePort();
  supervisord = await startSupervisord({ 'gateway-proxy': nodeHealthServer(healthPort) });
  database = await createTempDatabase('sb_sandbox');
  // No Slack credentials: the bot starts its sandbox.
  const env = parseEnv({ PORT: '0', DATABASE_URL: database.url, ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const catalog = parseCatalog(catalogYaml(healthPort, supervisord.url), 'sandbox-test.yml', {});
  switchboard = await startSwitchboard({ env, catalog, logger: pino({ level: env.LOG_LEVEL }) });
  // The system's Chromium (found by the run's global setup), driven without a browser download of playwright's own.
  browser = await chromium.launch({ executablePath: programPath('chromium'), args: CHROMIUM_FLAGS });
  page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await switchboard?.stop(2_000);
  await supervisord?.stop();
  await database?.drop();
});

requires('supervisord', 'chromium')('the sandbox in a real browser', () => {
  it('shows an incident from Alertmanager, restarts the service from its button after the confirm dialog, and shows the result and the escalation', async () => {
    const origin = `http://localhost:${switchboard.port}`;
    // The URL the start log prints, with the sandbox's token.
    const url = switchboard.sandboxUrl!;
    expect(url).toMatch(new RegExp(`^${origin}/sandbox\\?token=[A-Za-z0-9_-]{32}$`));
    await page.goto(url);
    await page.getByRole('button', { name: '# ops-gateway' }).waitFor();
    // Reloading, or coming back without the token in the address, still works: the page keeps it.
    await page.reload();
    await page.goto(`${origin}/`);
    await expect.poll(() => page.url()).toBe(`${origin}/sandbox`);
    await page.getByRole('button', { name: '# ops-gateway' }).click();

    const answer = await fetch(`${switchboard.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(notification(new Date().toISOString())),
    });
    expect(answer.status).toBe(200);

    const incident = page.locator('.message').filter({ has: page.getByRole('heading', { name: /FIRING #1 · ServiceDown/ }) });
    await incident.waitFor({ timeout: 15_000 });
    await expect.poll(() => incident.getByText('API gateway is unreachable').count()).toBe(1);

    const pidBefore = await supervisord.pidOf('gateway-proxy');
    await incident.getByRole('button', { name: 'Restart', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/Restart.*api-gateway.*incident #1/);
    await dialog.getByRole('button', { name: 'Restart' }).click();

    const thread = incident.getByLabel('thread');
    await thread.getByText(/Restart.*succeeded/).waitFor({ timeout: 30_000 });
    expect(await supervisord.pidOf('gateway-proxy')).not.toBe(pidBefore);
    // Level 1 of the policy pings its target in the thread and by direct message.
    await thread.getByText(/Escalated to level 1 of 1/).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByRole('button', { name: /@u0oncall01|@U0ONCALL01/ }).count(), { timeout: 10_000 }).toBe(1);

    // `/ops` answers only the person who typed it.
    await page.getByLabel('/ops').fill('health api-gateway');
    await page.getByLabel('/ops').press('Enter');
    const ephemeral = page.locator('.ephemeral').filter({ hasText: '/ops health api-gateway' });
    // "⏳ Running…" first, then replaced in place by the answer.
    await ephemeral.getByText(/gateway — .*HTTP 200/).waitFor({ timeout: 10_000 });
    expect(await ephemeral.getByText(/Running/).count()).toBe(0);
    await expect.poll(() => ephemeral.getByText('Only visible to you').count()).toBe(1);

    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect((await stat(SCREENSHOT)).size).toBeLessThan(300 * 1024);
    await rm(SCREENSHOT);
  }, 90_000);

  it('refuses sandbox requests that do not come from a page on this machine', async () => {
    const forged = await fetch(`${switchboard.url}/sandbox/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ channel: '#ops-gateway', text: 'restart api-gateway' }),
    });
    expect(forged.status).toBe(403);
    const token = new URL(switchboard.sandboxUrl!).searchParams.get('token')!;
    const form = await fetch(`${switchboard.url}/sandbox/command?token=${token}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(400);
  });
});
