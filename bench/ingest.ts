import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createCpuMeter, type CpuMeter } from './lib/cpu-meter.js';
import { fixedRate, maxThroughput, type LoadResult, type LoadTarget } from './lib/load.js';
import { createNotificationMix, SERVICES, TEAMS, type NotificationKind } from './lib/notifications.js';
import { startSwitchboardUnderTest, WEBHOOK_HEADERS } from './lib/switchboard-under-test.js';
import { startTarget } from './lib/target.js';

/** The traffic: shares of new groups and updates; the rest are repeats. */
export const INGEST_MIX = { newShare: 0.4, updateShare: 0.4 } as const;
export const MIX_DESCRIPTION =
  '40 % new alert groups (new incidents, 1–4 alerts), 40 % updates of an idle open group (the full alert list again with one alert joining, 70 %, or resolving; resolving the last one resolves the incident), 20 % exact repeats of an idle group (repeat_interval, or the second Alertmanager of an HA pair); 4 teams routed to 4 channels; a group is never sent twice at once';

/** Four teams, four channels, runbook buttons on every incident: what a small real catalog gives. */
export const INGEST_CATALOG = `version: 1
services:
${SERVICES.map((s) => `  ${s}:\n    name: ${s}\n    health:\n      - { name: api, kind: http, url: "http://127.0.0.1:9/health" }`).join('\n')}
routes:
${TEAMS.map((t) => `  - name: ${t}\n    match: { team: ${t} }\n    channel: C0${t.toUpperCase()}\n    buttons: { "*": [service.health, service.restart] }`).join('\n')}
defaultRoute:
  channel: C0ALERTS
  buttons: { "*": [service.health] }
`;

export interface IngestOptions {
  connections: number;
  rate: number;
  maxWarmupMs: number;
  maxDurationMs: number;
  rateWarmupMs: number;
  rateDurationMs: number;
  /** How long to wait for answers after the last send before giving up on them. */
  rateDrainMs: number;
  logLevel: string;
  cpuProfileDir?: string;
  only?: 'max' | 'rate';
  log(line: string): void;
}

/** What the Switchboard's store held after a run: proof that the work behind each 200 was done. */
export interface StoreCheck {
  notifications: number;
  incidents: number;
  newGroupsSent: number;
  outboxRows: number;
  slackPosts: number;
  /** SQL statements the Switchboard sent (its sender's included), per notification stored. */
  statementsPerNotification: number;
  /** Notifications stored but not yet applied when the load stopped, and how long the processor took to apply them. */
  backlog: { pending: number; drainMs: number; drained: boolean; incidentsAfter: number };
  /** Event-loop delay of the Switchboard process over its whole life (warm-up and the backlog drain included): p99 and max, ms. */
  loopDelay: { p99: number; max: number };
}

export interface ModeResult {
  bare: LoadResult;
  switchboard: LoadResult;
  sent: Record<NotificationKind, number>;
  store: StoreCheck;
}

export interface IngestReport {
  max?: ModeResult & { connections: number };
  rate?: ModeResult & { rate: number; generatorLagP99: number };
}

type Runner = (target: LoadTarget, next: ReturnType<typeof createNotificationMix>, meter: CpuMeter) => Promise<LoadResult>;

async function storeCheck(databaseUrl: string): Promise<Pick<StoreCheck, 'notifications' | 'incidents' | 'outboxRows'>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ notifications: number; incidents: number; outbox: number }>(
      'SELECT (SELECT count(*)::int FROM notifications) AS notifications, (SELECT count(*)::int FROM incidents) AS incidents, (SELECT count(*)::int FROM outbox) AS outbox',
    );
    return { notifications: rows[0]!.notifications, incidents: rows[0]!.incidents, outboxRows: rows[0]!.outbox };
  } finally {
    await client.end();
  }
}

const DRAIN_CAP_MS = 180_000;

/** Waits until the notification processor applied everything stored (or DRAIN_CAP_MS passed). */
async function drainBacklog(databaseUrl: string): Promise<StoreCheck['backlog']> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const pendingNow = async () =>
    (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE processed_at IS NULL AND failed_at IS NULL')).rows[0]!.n;
  try {
    const started = performance.now();
    const pending = await pendingNow();
    let left = pending;
    while (left > 0 && performance.now() - started < DRAIN_CAP_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await pendingNow();
    }
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    return { pending, drainMs: performance.now() - started, drained: left === 0, incidentsAfter: rows[0]!.n };
  } finally {
    await client.end();
  }
}

async function compare(label: string, options: IngestOptions, run: Runner): Promise<ModeResult> {
  const seed = 20_260_301;
  options.log(`  ${label}: bare node:http server…`);
  const bare = await startTarget('bare-server', {});
  let bareResult: LoadResult;
  try {
    const mix = createNotificationMix({ seed, runId: randomBytes(3).toString('hex'), ...INGEST_MIX });
    bareResult = await run({ origin: bare.url, path: '/alertmanager', headers: WEBHOOK_HEADERS }, mix, createCpuMeter({ serverPid: bare.pid }));
  } finally {
    await bare.stop();
  }

  options.log(`  ${label}: Switchboard (PostgreSQL, outbox sender on)…`);
  const sut = await startSwitchboardUnderTest({ catalogYaml: INGEST_CATALOG, logLevel: options.logLevel, label, ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}) });
  let closed = false;
  try {
    const mix = createNotificationMix({ seed, runId: randomBytes(3).toString('hex'), ...INGEST_MIX });
    const result = await run({ origin: sut.target.url, path: '/alertmanager', headers: WEBHOOK_HEADERS }, mix, createCpuMeter({ serverPid: sut.target.pid, databaseUrl: sut.databaseUrl }));
    const stored = await storeCheck(sut.databaseUrl);
    const slackPosts = sut.slack.callsTo('chat.postMessage').length;
    options.log(`  ${label}: waiting for the notification processor to apply the backlog…`);
    const backlog = await drainBacklog(sut.databaseUrl);
    closed = true;
    const stats = await sut.close();
    return {
      bare: bareResult,
      switchboard: result,
      sent: { ...mix.counts },
      store: { ...stored, newGroupsSent: mix.groups, slackPosts, statementsPerNotification: (stats.statements ?? 0) / Math.max(1, stored.notifications), backlog, loopDelay: { p99: stats.loopDelayP99Ms ?? 0, max: stats.loopDelayMaxMs ?? 0 } },
    };
  } finally {
    if (!closed) await sut.close();
  }
}

export async function runIngest(options: IngestOptions): Promise<IngestReport> {
  const report: IngestReport = {};
  if (options.only !== 'rate') {
    const mode = await compare('max', options, (target, mix, meter) =>
      maxThroughput(target, { connections: options.connections, warmupMs: options.maxWarmupMs, durationMs: options.maxDurationMs, next: () => mix.next(), meter }),
    );
    report.max = { ...mode, connections: options.connections };
  }
  if (options.only !== 'max') {
    let lag = 0;
    const mode = await compare('rate', options, async (target, mix, meter) => {
      const result = await fixedRate(target, {
        rate: options.rate,
        warmupMs: options.rateWarmupMs,
        durationMs: options.rateDurationMs,
        maxConnections: 256,
        drainMs: options.rateDrainMs,
        next: () => mix.next(),
        meter,
      });
      lag = Math.max(lag, result.lateSendP99);
      return result;
    });
    report.rate = { ...mode, rate: options.rate, generatorLagP99: lag };
  }
  return report;
}
