import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { expectScreenshot, updatingScreenshots } from '../helpers/screenshots.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { programPath, requires } from '../helpers/requires.js';

/**
 * What a person sees in the sandbox, with the example catalog that `npm start` uses: buttons
 * that can be read, text on the lines it was written on, emoji without an emoji font, and
 * screenshots of the main views compared with approved ones (UPDATE_SCREENSHOTS=1 rewrites
 * them and docs/sandbox.png).
 */

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--font-render-hinting=none'];
const EXAMPLE_CATALOG = new URL('../../examples/switchboard.yml', import.meta.url);
const DOCS_PICTURE = new URL('../../docs/sandbox.png', import.meta.url).pathname;
const TOKEN = 'sandbox-look-test-token';

let database: Awaited<ReturnType<typeof createTempDatabase>>;
let switchboard: Switchboard;
let browser: Browser;
let page: Page;

/** An alert of the example catalog's API gateway, started at a fixed time so the page shows the same dates every run. */
function serviceDown() {
  const labels = { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', instance: 'api-gateway:5000' };
  return {
    version: '4',
    groupKey: '{}:{alertname="ServiceDown", service="api-gateway"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'switchboard',
    groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
    commonLabels: labels,
    commonAnnotations: { summary: 'API gateway is unreachable', description: 'api-gateway:5000 has not answered Prometheus for more than 1 minute' },
    externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels, annotations: {}, startsAt: new Date(Date.now() - 120_000).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: 'a1b2c3d4e5f60718' }],
  };
}

/** WCAG contrast ratio of an element's text colour against the background it is drawn on. */
function contrastOf(locator: Locator): Promise<{ ratio: number; color: string; background: string }> {
  return locator.evaluate((node) => {
    const rgb = (text: string) => (text.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) =>
      [r!, g!, b!].map((c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4)).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0);
    let backgroundNode: Element | null = node;
    let background = getComputedStyle(node).backgroundColor;
    // A transparent background shows whatever is behind it.
    while (backgroundNode && (background === 'transparent' || rgb(background)[3] === 0)) {
      backgroundNode = backgroundNode.parentElement;
      background = backgroundNode ? getComputedStyle(backgroundNode).backgroundColor : 'rgb(255, 255, 255)';
    }
    const color = getComputedStyle(node).color;
    const [a, b] = [luminance(rgb(color)), luminance(rgb(background))];
    return { ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), color, background };
  });
}

async function expectReadable(button: Locator): Promise<void> {
  const { ratio, color, background } = await contrastOf(button);
  expect(ratio, `${await button.textContent()}: ${color} on ${background}`).toBeGreaterThanOrEqual(3);
}

/** How many lines an element's text takes on screen. */
const renderedLines = (locator: Locator) =>
  locator.evaluate((node) => Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight)));

/** Times and mentions change from run to run (the on-call rotation follows the calendar); screenshots cover them. */
const changing = () => [page.locator('.time'), page.locator('.mention')];

beforeAll(async () => {
  database = await createTempDatabase('sb_sandbox_look');
  const env = parseEnv({ PORT: '0', DATABASE_URL: database.url, ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const catalog = parseCatalog(await readFile(EXAMPLE_CATALOG, 'utf8'), 'examples/switchboard.yml', {});
  switchboard = await startSwitchboard({ env, catalog, logger: pino({ level: env.LOG_LEVEL }) });
  browser = await chromium.launch({ executablePath: programPath('chromium'), args: CHROMIUM_FLAGS });
  page = await browser.newPage({ viewport: { width: 1180, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
  await page.goto(switchboard.sandboxUrl!);
  await page.getByRole('button', { name: '# devops-oncall' }).click();
  const answer = await fetch(`${switchboard.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(serviceDown()),
  });
  expect(answer.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await switchboard?.stop(2_000);
  await database?.drop();
});

const incident = () => page.locator('.message').filter({ has: page.getByRole('heading', { name: /FIRING #1 · ServiceDown/ }) });

requires('chromium')('the sandbox as a person sees it', () => {
  it('shows the incident and its thread, with readable buttons and drawn emoji', async () => {
    await incident().waitFor({ timeout: 15_000 });
    await incident().getByLabel('thread').getByText(/Escalated to level 1/).waitFor({ timeout: 20_000 });
    for (const button of await incident().getByRole('button').all()) await expectReadable(button);

    // The severity emoji is drawn, not left to a font this machine does not have.
    const heading = incident().getByRole('heading', { name: /FIRING #1/ });
    const emoji = heading.locator('svg.emoji');
    expect(await emoji.count()).toBe(1);
    expect(await emoji.getAttribute('aria-label')).toBe(':red_circle:');
    expect((await emoji.boundingBox())?.width).toBeGreaterThan(10);
    // No emoji Switchboard writes is left as a character anywhere on the page.
    const leftAsText = await page.locator('#messages').evaluate((root) => {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const found: string[] = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (/\p{Extended_Pictographic}/u.test(node.textContent ?? '') && !node.parentElement?.closest('.emoji-text')) found.push(node.textContent!);
      }
      return found;
    });
    expect(leftAsText).toEqual([]);

    // The start time and the next escalation step are shown as clock times of today.
    const clockTimes = incident().locator('.fields > div').filter({ hasText: /^(Started|Escalation)/ });
    await expectScreenshot('channel-incident', await incident().screenshot({ mask: [...changing(), clockTimes], animations: 'disabled' }));
  }, 60_000);

  it('draws :shortcodes: and Unicode emoji it knows, and leaves others as text', async () => {
    const html = await page.evaluate(() => {
      const w = window as unknown as { mrkdwn(text: string): HTMLElement };
      const node = w.mrkdwn(':warning: memory ⚠️ high :no_such_emoji: `:warning: in code` 12:00:30');
      return { svgs: [...node.querySelectorAll('svg.emoji')].map((s) => s.getAttribute('aria-label')), text: node.textContent };
    });
    expect(html.svgs).toEqual([':warning:', ':warning:']);
    expect(html.text).toBe(' memory  high :no_such_emoji: :warning: in code 12:00:30');
  });

  it('shows the confirm dialog with a confirm button that can be read', async () => {
    await incident().getByRole('button', { name: 'Restart', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Restart' });
    await expectReadable(confirm);
    await expectReadable(dialog.getByRole('button', { name: 'Cancel' }));
    await expectScreenshot('confirm-dialog', await dialog.screenshot({ animations: 'disabled' }));
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('shows the silence dialog with a Submit button that can be read', async () => {
    await incident().getByRole('button', { name: 'Silence', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const submit = dialog.getByRole('button', { name: 'Silence' });
    await expectReadable(submit);
    await expectScreenshot('silence-modal', await dialog.screenshot({ animations: 'disabled' }));
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('answers `/ops help` typed as the README says, on separate lines, with <service> shown', async () => {
    const box = page.getByLabel('/ops');
    await box.fill('/ops help');
    await box.press('Enter');
    const answer = page.locator('.ephemeral').filter({ hasText: 'runs your runbooks' });
    await answer.waitFor({ timeout: 10_000 });
    const text = answer.locator('.body > div').nth(2);
    expect(await text.textContent()).toContain('/ops restart <service>');
    expect(await text.textContent()).not.toContain('not an /ops command');
    // One line per command, as Slack shows it: the text is many lines high, and each group heading starts a line.
    expect(await renderedLines(text)).toBeGreaterThanOrEqual(18);
    const headings = await text.locator('b', { hasText: /^Needs the/ }).evaluateAll((nodes) => nodes.map((n) => n.getClientRects()[0]!.left));
    expect(headings.length).toBe(2);
    const textLeft = await text.evaluate((n) => n.getBoundingClientRect().left);
    for (const left of headings) expect(left).toBeCloseTo(textLeft, 0);
    await expectScreenshot('help-answer', await answer.screenshot({ mask: changing(), animations: 'disabled' }));
  }, 30_000);

  it('keeps the line breaks of answers without blocks (/ops oncall)', async () => {
    const box = page.getByLabel('/ops');
    await box.fill('oncall');
    await box.press('Enter');
    const answer = page.locator('.ephemeral').filter({ hasText: /primary-oncall/ }).last();
    await answer.waitFor({ timeout: 10_000 });
    const text = answer.locator('.body > div').nth(2);
    const lines = (await text.evaluate((n) => (n as HTMLElement).innerText)).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    expect(await renderedLines(text)).toBeGreaterThanOrEqual(lines.length);

    await page.locator('#messages').evaluate((n) => n.scrollTo(0, 0));
    if (updatingScreenshots) await page.screenshot({ path: DOCS_PICTURE, fullPage: false, animations: 'disabled' });
  }, 30_000);
});
