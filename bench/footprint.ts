/**
 * Footprint: time from start to /readyz, and resident memory of the whole process tree at ready,
 * after an idle while and after 1,000 incidents, for the compiled Switchboard on both stores,
 * beside a minimal Bolt app with a pg pool measured in the same run.
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startFakeSlack } from '../test/fakes/fake-slack.js';
import { createTempDatabase } from '../test/helpers/temp-database.js';
import { stormNotification } from './lib/notifications.js';
import { treeRss } from './lib/rss.js';
import { BOT_TOKEN, WEBHOOK_HEADERS, WEBHOOK_TOKEN } from './lib/switchboard-under-test.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
const MINIMAL_BOLT = join(ROOT, 'bench', 'targets', 'minimal-bolt.mjs');

export interface Footprint {
  label: string;
  readyMs: number;
  rssReady: number;
  rssIdle: number;
  rssLoaded?: number;
  /** How long the 1,000 incidents took to be accepted and applied. */
  loadMs?: number;
}

export interface FootprintReport {
  idleMs: number;
  incidents: number;
  baseline: Footprint;
  postgres: Footprint;
  embeddedFirst: Footprint;
  embeddedRestart: Footprint;
}

interface Options {
  idleMs: number;
  incidents: number;
  log(line: string): void;
}

export async function runFootprint(options: Options): Promise<FootprintReport> {
  await access(MAIN).catch(() => {
    throw new Error('bench footprint measures the compiled Switchboard: run `npm run build` first');
  });
  const slack = await startFakeSlack({ token: BOT_TOKEN });
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-bench-footprint-'));
  const databases = [await createTempDatabase('sb_bench'), await createTempDatabase('sb_bench')];
  const slackEnv = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789', SLACK_API_URL: slack.url };
  const switchboardEnv = { ...slackEnv, ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN, LOG_LEVEL: 'warn' };
  try {
    options.log('  footprint: minimal Bolt app with a pg pool…');
    const baseline = await measure('minimal Bolt + pg pool', MINIMAL_BOLT, { ...slackEnv, DATABASE_URL: databases[0]!.url }, options);
    options.log('  footprint: Switchboard on PostgreSQL…');
    const postgres = await measure('Switchboard, PostgreSQL store', MAIN, { ...switchboardEnv, DATABASE_URL: databases[1]!.url }, options, true);
    options.log('  footprint: Switchboard on the embedded store, first start…');
    const embeddedFirst = await measure('Switchboard, embedded store, first start', MAIN, { ...switchboardEnv, SWITCHBOARD_DATA_DIR: dataDir }, options, true);
    options.log('  footprint: Switchboard on the embedded store, restart…');
    const embeddedRestart = await measure('Switchboard, embedded store, restart', MAIN, { ...switchboardEnv, SWITCHBOARD_DATA_DIR: dataDir }, options);
    return { idleMs: options.idleMs, incidents: options.incidents, baseline, postgres, embeddedFirst, embeddedRestart };
  } finally {
    await slack.close();
    await Promise.all(databases.map((d) => d.drop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measure(label: string, script: string, env: Record<string, string>, options: Options, load = false): Promise<Footprint> {
  const port = 41_000 + Math.floor(Math.random() * 10_000);
  const url = `http://127.0.0.1:${port}`;
  const began = performance.now();
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', PORT: String(port), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await until(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 60_000, () => `${label} was not ready within 60 s\n${stderr}`);
    const readyMs = performance.now() - began;
    const rssReady = treeRss(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    const rssIdle = treeRss(child.pid!);
    const result: Footprint = { label, readyMs, rssReady, rssIdle };
    if (load) {
      const loadBegan = performance.now();
      await sendIncidents(url, options.incidents);
      result.loadMs = performance.now() - loadBegan;
      result.rssLoaded = treeRss(child.pid!);
    }
    return result;
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Opens `count` incidents (one new alert group each) and waits until every notification is applied. */
async function sendIncidents(url: string, count: number): Promise<void> {
  const pool = new Pool(url, { connections: 16 });
  const runId = Math.random().toString(16).slice(2, 8);
  try {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const { body } = stormNotification(runId, next++, 1, new Date());
        const res = await pool.request({ path: '/alertmanager', method: 'POST', headers: WEBHOOK_HEADERS, body });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`footprint: a notification was answered HTTP ${res.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await until(async () => /^switchboard_notifications_pending 0$/m.test(await (await fetch(`${url}/metrics`)).text()), 120_000, () => 'footprint: the notifications were not applied within 120 s');
  } finally {
    await pool.close();
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, failure: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
