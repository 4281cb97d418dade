import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { incidentMessageKey } from '../src/alerts/project-incident.js';
import { createPostgresDb } from '../src/store/postgres-db.js';
import type { RecordedCall } from '../test/fakes/fake-slack.js';
import { treeRss } from './lib/rss.js';
import { stormNotification } from './lib/notifications.js';
import { summarize, type LatencySummary } from './lib/stats.js';
import { startSwitchboardUnderTest, WEBHOOK_HEADERS } from './lib/switchboard-under-test.js';

export const STORM_CHANNEL = 'C0STORM';
const PAGED_USER = 'U0BENCHL1';
const ESCALATE_AFTER_MS = 10_000;

/**
 * Every alert lands in one channel, the worst case for Slack's one post per second per channel.
 * The storm's own incidents page nobody; a few incidents opened just before it (team "pager")
 * escalate 10 s after they open, so their pings fall due while the storm is on. The storm digest
 * runs with its defaults (more than 20 new incidents in a minute).
 */
export const STORM_CATALOG = `version: 1
services:
  api-gateway:
    name: API Gateway
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:9/health" }
escalationPolicies:
  bench-pager:
    levels:
      - { delay: ${ESCALATE_AFTER_MS / 1000}s, targets: [ { user: ${PAGED_USER} }, { usergroup: S0BENCHL1 } ] }
routes:
  - name: pager
    match: { team: pager }
    channel: ${STORM_CHANNEL}
    escalation: bench-pager
defaultRoute:
  channel: ${STORM_CHANNEL}
  buttons: { "*": [service.health] }
`;

export interface StormOptions {
  groups: number;
  overMs: number;
  /** How long after its notification an incident may take to become visible (the bar). */
  visibleWithinMs: number;
  /** When, after the storm starts, each pager incident's escalation falls due. */
  pingsDueAtMs: number[];
  logLevel: string;
  log(line: string): void;
}

export interface PingDelay {
  /** Step due → escalation reply in the incident's thread, in the storm's channel. */
  threadMs?: number;
  /** Step due → direct message to the paged user. */
  dmMs?: number;
}

export interface StormReport {
  groups: number;
  overMs: number;
  answered200: number;
  httpErrors: number;
  /** Webhook answers during the storm, from when each notification was due. */
  latency: LatencySummary;
  /** Sent groups with no incident in the store. */
  lostIncidents: number;
  alertsSent: number;
  alertsStored: number;
  rateLimited: number;
  /** Own thread parent, or a row of a digest message, within the bar. */
  visibleWithinBar: number;
  visibleTotal: number;
  /** Counted in a digest message's total ("…and N more") or better, within the bar. */
  countedWithinBar: number;
  /** Slowest incident, notification to visible; undefined when some never became visible. */
  slowestVisibleMs: number | undefined;
  waitedMs: number;
  threads: number;
  digested: number;
  digestMessages: number;
  firstDigestAfterMs: number | undefined;
  /** Gaps between consecutive posts in the channel (parents, replies, digest) from the storm's start to its first digest (or the end): the sender's pacing under load; 1.1 s is its floor. */
  postGapMs: { mean: number; max: number; posts: number };
  pings: PingDelay[];
  visibleWithinMs: number;
  /** The Switchboard's process tree at its largest, sampled every 250 ms from its start to the end of the measurement. */
  peakRss: number;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const DIGEST_ROW = new RegExp(`^digest-(${UUID})$`);
const DIGEST_COUNT = /([\d,]+) new incidents?\b/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const inChannel = (c: RecordedCall) => c.args.channel === STORM_CHANNEL && !c.args.thread_ts && c.response.ok === true;
const blocksOf = (c: RecordedCall) => (Array.isArray(c.args.blocks) ? (c.args.blocks as Array<{ block_id?: string }>) : []);

export async function runStorm(options: StormOptions): Promise<StormReport> {
  const runId = randomBytes(3).toString('hex');
  options.log('  storm: Switchboard, fake Slack enforcing 1 post/s per channel…');
  const sut = await startSwitchboardUnderTest({ catalogYaml: STORM_CATALOG, enforceChannelRate: true, logLevel: options.logLevel, label: 'storm' });
  const db = createPostgresDb(sut.databaseUrl, { max: 2, applicationName: 'switchboard-bench' });
  const pool = new Pool(sut.target.url, { connections: 64, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const slack = sut.slack;
  let peakRss = treeRss(sut.target.pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, treeRss(sut.target.pid))), 250);
  try {
    const post = async (body: string) => {
      const res = await pool.request({ path: '/alertmanager', method: 'POST', headers: WEBHOOK_HEADERS, body });
      const text = await res.body.text();
      return { status: res.statusCode, json: res.statusCode === 200 ? (JSON.parse(text) as { ok: boolean }) : undefined };
    };

    // Pager incidents open before the storm so that their escalation falls due during it.
    const lead = ESCALATE_AFTER_MS - Math.min(...options.pingsDueAtMs);
    const start = Date.now() + lead;
    options.log(`  storm: ${options.pingsDueAtMs.length} incidents that escalate ${ESCALATE_AFTER_MS / 1000} s after opening, then ${options.groups} alert groups over ${options.overMs / 1000} s…`);
    const pagers = options.pingsDueAtMs.map(async (dueAt, i) => {
      await sleep(Math.max(0, start + dueAt - ESCALATE_AFTER_MS - Date.now()));
      const notification = stormNotification(runId, options.groups + i, 1, new Date(), 'pager');
      const res = await post(notification.body);
      if (res.status !== 200) throw new Error(`storm: a pager incident was refused with HTTP ${res.status}`);
      // The webhook answers once the notification is stored; its incident appears when the queue applies it.
      const groupKey = (JSON.parse(notification.body) as { groupKey: string }).groupKey;
      for (;;) {
        const { rows } = await db.query<{ id: string; number: number; opened_at: Date }>('SELECT id, number, opened_at FROM incidents WHERE group_key = $1', [groupKey]);
        if (rows[0]) return { id: rows[0].id, number: rows[0].number, dueAt: new Date(rows[0].opened_at).getTime() + ESCALATE_AFTER_MS };
        await sleep(20);
      }
    });

    const sentAt = new Map<string, number>();
    let answered200 = 0;
    let httpErrors = 0;
    const latencies: number[] = [];
    let alertsSent = 0;
    const requests: Promise<void>[] = [];
    const interval = options.overMs / options.groups;
    for (let i = 0; i < options.groups; i++) {
      await sleep(Math.max(0, start + i * interval - Date.now()));
      const alerts = 1 + (i % 3);
      const { body, groupKey } = stormNotification(runId, i, alerts, new Date());
      const due = start + i * interval;
      sentAt.set(groupKey, due);
      alertsSent += alerts;
      requests.push(
        post(body).finally(() => latencies.push(Date.now() - due)).then(
          (res) => void (res.status === 200 ? (answered200 += 1) : (httpErrors += 1)),
          () => void (httpErrors += 1),
        ),
      );
    }
    await Promise.all(requests);
    const paged = await Promise.all(pagers);
    const pagerIds = paged.map((p) => p.id);

    // Visible: its own parent message in the channel, or a row (block_id digest-<id>) of a digest
    // message there. Counted: at least included in a digest message's total.
    const deadline = start + options.overMs + options.visibleWithinMs + 1_000;
    let incidents: Array<{ id: string; group_key: string; ts: string | null; digest: string | null; rank: number | null }> = [];
    let visibleAt = new Map<string, number>();
    let countedAt = new Map<string, number>();
    let pagerTs = new Map<string, string>();
    for (;;) {
      const { rows } = await db.query<{ id: string; number: number; group_key: string; ts: string | null; digest: string | null; rank: number | null }>(
        `SELECT i.id, i.number, i.group_key, m.ts, d.ts AS digest,
                CASE WHEN s.message_key IS NOT NULL THEN row_number() OVER (PARTITION BY s.message_key ORDER BY s.added_at, i.number)::int END AS rank
           FROM incidents i
           LEFT JOIN slack_messages m ON m.message_key = 'incident:' || i.id::text
           LEFT JOIN storm_incidents s ON s.incident_id = i.id
           LEFT JOIN slack_messages d ON d.message_key = s.message_key
          WHERE NOT (i.id = ANY($1::uuid[]))`,
        [pagerIds],
      );
      incidents = rows;
      const idOfNumber = new Map(rows.map((r) => [r.number, r.id]));
      const parentAt = new Map<string, number>();
      const listedAt = new Map<string, number>();
      // Digest ts → when it first showed at least N incidents.
      const digestCounts = new Map<string, Array<{ at: number; n: number }>>();
      for (const call of slack.calls) {
        if (!inChannel(call)) continue;
        const ts = String(call.method === 'chat.update' ? call.args.ts : call.response.ts);
        if (call.method === 'chat.postMessage') parentAt.set(ts, call.at);
        if (call.method !== 'chat.postMessage' && call.method !== 'chat.update') continue;
        for (const block of blocksOf(call)) {
          const id = DIGEST_ROW.exec(block.block_id ?? '')?.[1];
          if (id && !listedAt.has(id)) listedAt.set(id, call.at);
          // Past the rows with a button, a digest lists incidents as lines naming their number.
          if (!block.block_id?.startsWith('digest-list-')) continue;
          for (const match of JSON.stringify(block).matchAll(/\*#(\d+)\*/g)) {
            const listed = idOfNumber.get(Number(match[1]));
            if (listed && !listedAt.has(listed)) listedAt.set(listed, call.at);
          }
        }
        const n = DIGEST_COUNT.exec(String(call.args.text ?? ''));
        if (n && blocksOf(call).some((b) => b.block_id?.startsWith('digest'))) {
          const list = digestCounts.get(ts) ?? [];
          list.push({ at: call.at, n: Number(n[1]!.replaceAll(',', '')) });
          digestCounts.set(ts, list);
        }
      }
      visibleAt = new Map();
      countedAt = new Map();
      for (const row of rows) {
        const own = row.ts ? parentAt.get(row.ts) : undefined;
        const visible = [own, listedAt.get(row.id)].filter((t): t is number => t !== undefined);
        if (visible.length) visibleAt.set(row.id, Math.min(...visible));
        const counted = row.digest && row.rank ? digestCounts.get(row.digest)?.find((d) => d.n >= row.rank!)?.at : undefined;
        const any = [...visible, ...(counted !== undefined ? [counted] : [])];
        if (any.length) countedAt.set(row.id, Math.min(...any));
      }
      const { rows: parents } = await db.query<{ message_key: string; ts: string }>('SELECT message_key, ts FROM slack_messages WHERE message_key = ANY($1::text[])', [
        pagerIds.map(incidentMessageKey),
      ]);
      pagerTs = new Map(parents.map((r) => [r.message_key, r.ts]));
      const pingsDone = paged.every((p) => pingCalls(slack.calls, p, pagerTs.get(incidentMessageKey(p.id))).thread !== undefined);
      if ((visibleAt.size >= options.groups && pingsDone) || Date.now() > deadline) break;
      await sleep(500);
    }
    const waitedMs = Date.now() - start;

    const keys = new Set(incidents.map((r) => r.group_key));
    const lostIncidents = [...sentAt.keys()].filter((k) => !keys.has(k)).length;
    const { rows: alertRows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE NOT (incident_id = ANY($1::uuid[]))', [pagerIds]);
    const delay = (at: Map<string, number>, r: { id: string; group_key: string }) => {
      const t = at.get(r.id);
      return t === undefined ? undefined : t - (sentAt.get(r.group_key) ?? start);
    };
    const within = (at: Map<string, number>) => incidents.filter((r) => (delay(at, r) ?? Infinity) <= options.visibleWithinMs).length;
    const delays = incidents.map((r) => delay(visibleAt, r));
    const allVisible = delays.length >= options.groups && delays.every((d) => d !== undefined);
    const digestPosts = slack.calls.filter((c) => c.method === 'chat.postMessage' && inChannel(c) && blocksOf(c).some((b) => b.block_id?.startsWith('digest')));
    const until = digestPosts[0]?.at ?? Infinity;
    const postTimes = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === STORM_CHANNEL && c.at >= start && c.at <= until).map((c) => c.at);
    const gaps = postTimes.slice(1).map((t, i) => t - postTimes[i]!);
    return {
      groups: options.groups,
      overMs: options.overMs,
      answered200,
      httpErrors,
      latency: summarize(latencies),
      lostIncidents,
      alertsSent,
      alertsStored: alertRows[0]!.n,
      rateLimited: slack.rateLimited,
      visibleWithinBar: within(visibleAt),
      visibleTotal: visibleAt.size,
      countedWithinBar: within(countedAt),
      slowestVisibleMs: allVisible ? Math.max(...(delays as number[])) : undefined,
      waitedMs,
      threads: incidents.filter((r) => r.ts !== null).length,
      digested: incidents.filter((r) => r.rank !== null).length,
      digestMessages: digestPosts.length,
      firstDigestAfterMs: digestPosts[0] ? digestPosts[0].at - start : undefined,
      postGapMs: { mean: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0, max: gaps.length ? Math.max(...gaps) : 0, posts: postTimes.length },
      pings: paged.map((p) => {
        const calls = pingCalls(slack.calls, p, pagerTs.get(incidentMessageKey(p.id)));
        return { ...(calls.thread ? { threadMs: calls.thread.at - p.dueAt } : {}), ...(calls.dm ? { dmMs: calls.dm.at - p.dueAt } : {}) };
      }),
      visibleWithinMs: options.visibleWithinMs,
      peakRss,
    };
  } finally {
    clearInterval(sampler);
    await pool.close();
    await db.close();
    await sut.close();
  }
}

/** The escalation's thread reply and DM for one pager incident, once Slack has them. */
function pingCalls(calls: readonly RecordedCall[], pager: { number: number }, parentTs: string | undefined): { thread?: RecordedCall; dm?: RecordedCall } {
  return {
    thread: parentTs ? calls.find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === parentTs && String(c.args.text ?? '').startsWith('📣 Escalated')) : undefined,
    dm: calls.find((c) => c.method === 'chat.postMessage' && String(c.args.channel ?? '').startsWith('D') && String(c.args.text ?? '').includes(`/ops ack ${pager.number}\``)),
  };
}
