import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import type { SandboxView, ViewMessage } from '../../src/sandbox/sandbox-view.js';
import { freePort } from '../../src/simulator/daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/start-simulator.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env.js';
import { leaveRedisSnapshotAsFound } from '../helpers/redis-snapshot.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { requires } from '../helpers/requires.js';
import { testRedisClient } from '../helpers/test-redis-client.js';

/**
 * The acceptance, on this machine: the example catalog, the simulator's five systems and
 * the sandbox as Slack. Every system is checked, restarted and backed up through `/ops`, the
 * gateway's breaker is reset, and an alert travels Alertmanager → bot → sandbox thread.
 */
const EXAMPLE = new URL('../../examples/switchboard.yml', import.meta.url);
const TOKEN = 'simulator-test-token';
const suffix = randomBytes(4).toString('hex');
const DATABASES = { BROWNIE_DATABASE_URL: `sb_sim_${suffix}_brownie`, SELEXTRACT_DATABASE_URL: `sb_sim_${suffix}_selextract`, DRIED_FRUITS_DATABASE_URL: `sb_sim_${suffix}_dried` };
// Redis databases of their own, so the breaker key never meets a running demo's (db 2).
const REDIS_DB = 13;

let simulator: Simulator;
let switchboard: Switchboard;
let store: Awaited<ReturnType<typeof createTempDatabase>>;
let backupDir: string;
let origin: string;
/** The sandbox's token, from the URL its start log prints. */
let token: string;
const tokened = (path: string) => `${path}${path.includes('?') ? '&' : '?'}token=${token}`;
let restoreRedisSnapshot: (() => Promise<void>) | undefined;

const databaseUrl = (name: string) => Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${name}` }).href;
const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;

async function sandbox(path: string, body: object): Promise<{ ok: boolean }> {
  const res = await fetch(`${origin}${tokened(path)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean };
}

async function waitForMessage(channel: string, match: (m: ViewMessage) => boolean, timeoutMs = 30_000): Promise<ViewMessage> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const view = (await (await fetch(`${origin}${tokened('/sandbox/state')}`)).json()) as SandboxView;
    const messages = view.channels.find((c) => c.id === channel)?.messages ?? [];
    const found = messages.find(match);
    if (found) return found;
    seen = messages.map((m) => m.text.slice(0, 120));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`no matching message in ${channel} within ${timeoutMs} ms; it has:\n${seen.join('\n')}`);
}

async function notesNow(): Promise<Set<string | undefined>> {
  const view = (await (await fetch(`${origin}${tokened('/sandbox/state')}`)).json()) as SandboxView;
  return new Set(view.channels.flatMap((c) => c.messages.map((m) => m.note)));
}

/** `/ops <text>` typed in #ops-alerts; resolves with its final answer (no longer "Running…"). */
async function ops(text: string, done: RegExp): Promise<string> {
  const before = await notesNow();
  await sandbox('/sandbox/command', { channel: '#ops-alerts', text });
  return (await waitForMessage('#ops-alerts', (m) => !before.has(m.note) && m.command === `/ops ${text}` && !m.text.startsWith('⏳') && done.test(m.text))).text;
}

/** A destructive `/ops` command: confirm its prompt, then wait for the answer in the channel. */
async function confirmed(text: string, done: RegExp): Promise<string> {
  const before = await notesNow();
  expect((await sandbox('/sandbox/command', { channel: '#ops-alerts', text })).ok).toBe(true);
  const prompt = await waitForMessage('#ops-alerts', (m) => !before.has(m.note) && m.command === `/ops ${text}` && m.text.startsWith('⚠️'));
  expect((await sandbox('/sandbox/click', { channel: '#ops-alerts', note: prompt.note, blockId: 'confirmation', actionId: 'confirm:run' })).ok).toBe(true);
  return (await waitForMessage('#ops-alerts', (m) => !before.has(m.note) && m.ephemeral === false && m.command === `/ops ${text}` && done.test(m.text), 60_000)).text;
}

beforeAll(async () => {
  // The Redis backups below are real BGSAVEs into the test Redis's own directory.
  restoreRedisSnapshot = await leaveRedisSnapshotAsFound(redisUrl);
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const [company, brownie, selApi, selWorker, dried, gateway, upstream, supervisor, alertmanager] = ports;
  backupDir = await mkdtemp(join(tmpdir(), 'switchboard-simulator-backups-'));
  const env: Record<string, string> = {
    COMPANY_API_URL: `http://127.0.0.1:${company}`,
    BROWNIE_API_URL: `http://127.0.0.1:${brownie}`,
    SELEXTRACT_API_URL: `http://127.0.0.1:${selApi}`,
    SELEXTRACT_WORKER_URL: `http://127.0.0.1:${selWorker}`,
    DRIED_FRUITS_URL: `http://127.0.0.1:${dried}`,
    GATEWAY_URL: `http://127.0.0.1:${gateway}`,
    GATEWAY_UPSTREAM_URL: `http://127.0.0.1:${upstream}`,
    SUPERVISOR_URL: `http://127.0.0.1:${supervisor}/RPC2`,
    ALERTMANAGER_URL: `http://127.0.0.1:${alertmanager}`,
    SWITCHBOARD_BACKUP_DIR: backupDir,
    ...Object.fromEntries(['COMPANY', 'BROWNIE', 'SELEXTRACT', 'DRIED_FRUITS', 'GATEWAY'].map((s) => [`${s}_REDIS_URL`, redisUrl])),
    ...Object.fromEntries(Object.entries(DATABASES).map(([k, name]) => [k, databaseUrl(name)])),
  };
  const catalog = parseCatalog(await readFile(EXAMPLE, 'utf8'), 'examples/switchboard.yml', env);
  store = await createTempDatabase('sb_sim_store');
  // No Slack credentials: the bot serves the sandbox, which stands in for Slack here.
  const botEnv = parseEnv({ PORT: '0', ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, DATABASE_URL: store.url, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  switchboard = await startSwitchboard({ env: botEnv, catalog, logger: pino({ level: botEnv.LOG_LEVEL }) });
  origin = `http://localhost:${switchboard.port}`;
  token = new URL(switchboard.sandboxUrl!).searchParams.get('token')!;
  simulator = await startSimulator({ catalog, botUrl: switchboard.url, webhookToken: TOKEN });
}, 120_000);

afterAll(async () => {
  await switchboard?.stop(2_000);
  await simulator?.stop();
  const redis = testRedisClient(redisUrl);
  await redis.flushdb().finally(() => redis.disconnect());
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  for (const name of Object.values(DATABASES)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await store?.drop();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
  await restoreRedisSnapshot?.();
}, 60_000);

requires('redis', 'supervisord', 'prometheus', 'alertmanager', 'pg_dump')('the five seed systems through the sandbox', () => {
  it('checks every system healthy, then sees a failing one and brings it back with a restart', async () => {
    const all = await ops('health', /Health of 5 services/);
    expect(all).not.toContain('✗');
    await simulator.setMode('brownie-metadata', 'unhealthy');
    expect(await ops('health brownie-metadata', /detailed/)).toMatch(/✗ detailed/);
    for (const service of ['company-extraction', 'brownie-metadata', 'selextract', 'dried-fruits', 'api-gateway']) {
      expect(await confirmed(`restart ${service}`, /Restarted|restart/i)).toMatch(/✓ Restarted/);
    }
    expect(await ops('health brownie-metadata', /detailed/)).not.toContain('✗');
  }, 180_000);

  it("resets the gateway's circuit breaker in Redis", async () => {
    await simulator.tripBreaker();
    expect(await ops('circuit status api-gateway', /open|OPEN/)).toMatch(/open/i);
    expect(await confirmed('circuit reset api-gateway', /reset|Reset/)).toMatch(/✓/);
    const redis = new Redis(redisUrl);
    expect(await redis.exists('api-gateway:circuit-breaker').finally(() => redis.disconnect())).toBe(0);
  }, 60_000);

  it('backs up each system: pg_dump for three, Redis BGSAVE for two', async () => {
    for (const [service, target] of [['brownie-metadata', ''], ['selextract', ''], ['dried-fruits', ' database'], ['company-extraction', ''], ['api-gateway', '']] as const) {
      expect(await ops(`backup ${service}${target}`, /✓|✗|failed/)).toMatch(/✓ Backup/);
    }
  }, 120_000);

  it("sends an alert through the simulator's Alertmanager to the bot, which threads it in the route's channel", async () => {
    // Prometheus would post this after the demo rule's `for:`; posting it to Alertmanager directly checks the same path faster.
    const labels = { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', job: 'api-gateway' };
    const res = await fetch(`${simulator.alertmanagerUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ labels, annotations: { summary: 'API gateway is unreachable' } }]) });
    expect(res.status).toBe(200);
    const parent = await waitForMessage('#devops-oncall', (m) => /FIRING.*ServiceDown/.test(m.text), 45_000);
    expect(JSON.stringify(parent.blocks)).toContain('act:service.restart');
    // Alertmanager's external URL is the address it listens on, so its link opens from a browser here (not http://<hostname>:9093).
    expect(JSON.stringify(parent.blocks)).toContain(`<${simulator.alertmanagerUrl}`);
  }, 60_000);

  it("runs a Prometheus per system that scrapes every stand-in and loads the system's rules", async () => {
    for (const [service, url] of Object.entries(simulator.prometheus)) {
      await expect
        .poll(async () => {
          const targets = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
          return targets.data.activeTargets.length > 0 && targets.data.activeTargets.every((t) => t.health === 'up');
        }, { timeout: 30_000, interval: 500 })
        .toBe(true);
      const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ health: string }> }> } };
      const all = rules.data.groups.flatMap((g) => g.rules);
      expect(all.length, service).toBeGreaterThan(3);
      expect(all.filter((r) => r.health === 'err'), service).toEqual([]);
    }
    expect(Object.keys(simulator.prometheus).sort()).toEqual(['api-gateway', 'brownie-metadata', 'company-extraction', 'dried-fruits', 'selextract']);
  }, 60_000);
});
