import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import type { SandboxView, ViewMessage } from '../../src/sandbox/sandbox-view.js';
import { applySwitch } from '../../src/simulator/apply-switch.js';
import { freePort } from '../../src/simulator/daemon.js';
import type { DemoTiming } from '../../src/simulator/demo-rules.js';
import { BACKUP_AGE, DEMO_SWITCHES, NOT_DRIVABLE } from '../../src/simulator/demo-switches.js';
import { startSimulator, type Simulator } from '../../src/simulator/start-simulator.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env.js';
import { eventually } from '../helpers/eventually.js';
import { leaveRedisSnapshotAsFound } from '../helpers/redis-snapshot.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { requires } from '../helpers/requires.js';

/**
 * Every alert of examples/rules/ can be made to fire in the demo: for each system, in parallel,
 * each demo key (DEMO_SWITCHES) is pressed in turn, and real Prometheus, evaluating the
 * system's rules against its stand-ins, its exporter and Switchboard's own /metrics, must
 * report exactly the alerts the key claims as firing — and none of them before the key. Backup
 * rules fire on real backups run through `/ops` in the sandbox. The timing is the demo's
 * derivation with a faster clock than the demo's own, so the whole tour takes about a minute.
 */
const RULES_DIR = new URL('../../examples/rules/', import.meta.url);
const EXAMPLE = new URL('../../examples/switchboard.yml', import.meta.url);
const TIMING: DemoTiming = { for: '0s', range: '10s', step: '1s', backupAge: '5s', interval: '1s' };
const suffix = randomBytes(4).toString('hex');
const DATABASES = { BROWNIE_DATABASE_URL: `sb_cov_${suffix}_brownie`, SELEXTRACT_DATABASE_URL: `sb_cov_${suffix}_selextract`, DRIED_FRUITS_DATABASE_URL: `sb_cov_${suffix}_dried` };
// Redis databases of their own, so the breaker key never meets a running demo's (db 2) or the simulator test's (13).
const REDIS_DB = 12;
const SERVICES = ['company-extraction', 'brownie-metadata', 'selextract', 'dried-fruits', 'api-gateway'];

let simulator: Simulator;
let switchboard: Switchboard;
let store: Awaited<ReturnType<typeof createTempDatabase>>;
let backupDir: string;
let origin: string;
/** The sandbox's token, from the URL its start log prints. */
let token: string;
let restoreRedisSnapshot: (() => Promise<void>) | undefined;

const databaseUrl = (name: string) => Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${name}` }).href;
const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;

async function alertNamesOf(service: string): Promise<string[]> {
  const file = parse(await readFile(new URL(`${service}.yml`, RULES_DIR), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
  return [...new Set(file.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))))].sort();
}

async function firing(service: string): Promise<Set<string>> {
  const res = await fetch(`${simulator.prometheus[service]}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
  return new Set(body.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname!));
}

async function sandboxState(): Promise<SandboxView> {
  return (await (await fetch(`${origin}/sandbox/state?token=${token}`)).json()) as SandboxView;
}

/** `/ops <text>` typed in #ops-alerts, as the tour asks; resolves with its final answer. */
async function ops(text: string): Promise<string> {
  const notes = (view: SandboxView) => new Set(view.channels.flatMap((c) => c.messages.map((m) => m.note)));
  const before = notes(await sandboxState());
  const res = await fetch(`${origin}/sandbox/command?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: '#ops-alerts', text }) });
  if (res.status !== 200) throw new Error(`the sandbox refused /ops ${text}: ${res.status}`);
  const answer = await eventually(
    `the answer to /ops ${text}`,
    async () => {
      const messages = (await sandboxState()).channels.find((c) => c.id === '#ops-alerts')?.messages ?? [];
      return messages.find((m: ViewMessage) => !before.has(m.note) && m.command === `/ops ${text}` && !m.text.startsWith('⏳'));
    },
    60_000,
    300,
  );
  return answer.text;
}

/** One thing to do to a system, and the alerts it is said to make fire there. */
interface Step {
  what: string;
  alerts: readonly string[];
  act: () => Promise<unknown>;
}

function stepsFor(service: string): Step[] {
  const steps: Step[] = [];
  const aged = BACKUP_AGE[service];
  // First, while the system is healthy: a successful backup that ages past the threshold.
  if (aged) steps.push({ what: `${aged.command}, then wait`, alerts: aged.alerts, act: () => ops(aged.command.replace(/^\/ops /, '')) });
  for (const s of DEMO_SWITCHES) {
    const alerts = s.alerts[service];
    if (!alerts?.length) continue;
    const then = s.then?.[service];
    steps.push({
      what: `key ${s.key}${then ? ` and ${then}` : ''}`,
      alerts,
      act: async () => {
        await applySwitch(simulator, service, s.effect);
        if (then) await ops(then.replace(/^\/ops /, ''));
      },
    });
  }
  return steps;
}

beforeAll(async () => {
  restoreRedisSnapshot = await leaveRedisSnapshotAsFound(redisUrl);
  const redis = new Redis(redisUrl);
  await redis.flushdb().finally(() => redis.disconnect());
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const [company, brownie, selApi, selWorker, dried, gateway, upstream, supervisor, alertmanager] = ports;
  backupDir = await mkdtemp(join(tmpdir(), 'switchboard-coverage-backups-'));
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
  store = await createTempDatabase('sb_cov_store');
  // The bot and the simulator start side by side (the slow part: eight stand-in processes); Prometheus finds the bot when it is up.
  const botPort = await freePort();
  const botEnv = parseEnv({ PORT: String(botPort), DATABASE_URL: store.url, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  [switchboard, simulator] = await Promise.all([
    startSwitchboard({ env: botEnv, catalog, logger: pino({ level: botEnv.LOG_LEVEL }) }),
    startSimulator({ catalog, botUrl: `http://127.0.0.1:${botPort}`, timing: TIMING }),
  ]);
  origin = `http://localhost:${switchboard.port}`;
  token = new URL(switchboard.sandboxUrl!).searchParams.get('token')!;
  // Every target up (stand-ins, exporter, Switchboard) before any key, so "not firing yet" means something.
  await Promise.all(
    SERVICES.map((service) =>
      eventually(`every target of ${service}'s Prometheus up`, async () => {
        const body = (await (await fetch(`${simulator.prometheus[service]}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
        return body.data.activeTargets.length > 0 && body.data.activeTargets.every((t) => t.health === 'up');
      }, 30_000, 250),
    ),
  );
}, 120_000);

afterAll(async () => {
  await switchboard?.stop(2_000);
  await simulator?.stop();
  const redis = new Redis(redisUrl);
  await redis.flushdb().finally(() => redis.disconnect());
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  for (const name of Object.values(DATABASES)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await store?.drop();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
  await restoreRedisSnapshot?.();
}, 60_000);

requires('prometheus', 'alertmanager', 'supervisord', 'redis', 'pg_dump')('every alert of examples/rules/ fires in the demo', () => {
  it('has a key (or a backup) for every alert of every rule file, and claims no alert a file lacks', async ({ expect }) => {
    const files = (await readdir(RULES_DIR)).filter((f) => f.endsWith('.yml')).map((f) => f.replace(/\.yml$/, '')).sort();
    expect(files).toEqual([...SERVICES].sort());
    for (const service of SERVICES) {
      const claimed = new Set([...stepsFor(service).flatMap((s) => s.alerts), ...Object.keys(NOT_DRIVABLE[service] ?? {})]);
      expect([...claimed].sort(), service).toEqual(await alertNamesOf(service));
    }
  });

  describe.concurrent.each(SERVICES)('%s', (service) => {
    it('fires each alert when its key is pressed, and not before', async ({ expect }) => {
      const seen = new Set<string>();
      for (const step of stepsFor(service)) {
        const fresh = step.alerts.filter((a) => !seen.has(a));
        const early = [...(await firing(service))].filter((a) => fresh.includes(a));
        expect(early, `${service}: before ${step.what}`).toEqual([]);
        await step.act();
        await eventually(
          `${service}: ${step.alerts.join(', ')} firing after ${step.what}`,
          async () => {
            const now = await firing(service);
            return step.alerts.every((a) => now.has(a));
          },
          45_000,
          250,
        );
        for (const a of step.alerts) seen.add(a);
      }
      expect([...seen].sort()).toEqual((await alertNamesOf(service)).filter((a) => !(NOT_DRIVABLE[service] ?? {})[a]));
      // The alerts' Source links name Prometheus by the address it listens on, so they open from a browser here.
      const sent = await eventually(`${service}'s alerts in Alertmanager`, async () => {
        const alerts = (await (await fetch(`${simulator.alertmanagerUrl}/api/v2/alerts?filter=service%3D%22${service}%22`)).json()) as Array<{ generatorURL: string }>;
        return alerts.length > 0 && alerts;
      }, 30_000, 500);
      for (const alert of sent) expect(alert.generatorURL.startsWith(`${simulator.prometheus[service]}/`), alert.generatorURL).toBe(true);
    }, 150_000);
  });
});
