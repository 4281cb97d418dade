/**
 * Benchmarks of Alertmanager intake and incident threads, each beside a baseline measured in the
 * same run. Usage: tsx bench/run.ts [ingest|storm|all|statements|footprint] [--connections N] [--rate N]
 * [--log-level info] [--profile [--keep-profile]] [--idle-seconds N] [--write-docs]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/helpers/env.js';
import { runFootprint, type Footprint, type FootprintReport } from './footprint.js';
import { MIX_DESCRIPTION, runIngest, type IngestReport, type ModeResult } from './ingest.js';
import { summarizeProfile } from './lib/cpu-profile.js';
import type { CpuUse } from './lib/cpu-meter.js';
import type { LoadResult } from './lib/load.js';
import { ms, perSecond, seconds } from './lib/stats.js';
import { dropLeftoverDatabases } from './lib/switchboard-under-test.js';
import { toMarkdown, toText, type Table } from './lib/table.js';
import { killTargets, mainThreadProfile } from './lib/target.js';
import { runStatements, type StatementReport } from './statements.js';
import { runStorm, STORM_CHANNEL, type StormReport } from './storm.js';

const BAR = { throughputShare: 0.25, p99Ms: 25, stormVisibleMs: 30_000, pingMs: 5_000 } as const;
const FOOTPRINT_BAR = { postgresReadyMs: 1_000, postgresRss: 110, embeddedFirstMs: 3_000, embeddedRestartMs: 1_500, embeddedRss: 200, stormRss: 250 } as const;
const DOCS = new URL('../docs/benchmarks.md', import.meta.url);
// Each benchmark group keeps its own block in the docs, so running one leaves the others' results.
const marks = (group: string) => ({ start: `<!-- bench:${group}:start -->`, end: `<!-- bench:${group}:end -->` });

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: 'string', default: '16' },
    rate: { type: 'string', default: '1000' },
    'log-level': { type: 'string', default: 'info' },
    profile: { type: 'boolean', default: false },
    'keep-profile': { type: 'boolean', default: false },
    'write-docs': { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '30' },
  },
});
const which = positionals[0] ?? 'all';
if (!['ingest', 'storm', 'all', 'statements', 'footprint'].includes(which)) {
  process.stderr.write(`usage: tsx bench/run.ts [ingest|storm|all|statements|footprint] [--connections N] [--rate N] [--log-level L] [--profile [--keep-profile]] [--idle-seconds N] [--write-docs]\n`);
  process.exit(2);
}
const connections = Number(values.connections);
const rate = Number(values.rate);
const logLevel = values['log-level']!;
const log = (line: string) => process.stderr.write(`${line}\n`);

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const cores = (n: number) => n.toFixed(2);
const count = (n: number) => n.toLocaleString('en-US');

function cpuText(cpu: CpuUse | undefined, withPostgres: boolean): string {
  if (!cpu) return 'n/a';
  return [`server ${cores(cpu.server)}`, ...(withPostgres ? [`PostgreSQL ${cores(cpu.postgres)}`] : []), `load gen ${cores(cpu.loadGenerator)}`, `other processes ${cores(cpu.other)}`, `stolen by the host ${cores(cpu.stolen)}`].join(' · ') + ` (of ${cpu.cores})`;
}

function errorsText(result: LoadResult): string {
  if (result.errors === 0) return '0';
  const kinds = Object.entries(result.errorKinds).map(([k, n]) => `${k} ${count(n)}`);
  return `${count(result.errors)} of ${count(result.requests)} (${kinds.join(', ')})`;
}

const lowerBound = (result: LoadResult) => ((result.errorKinds.unanswered ?? 0) > 0 ? '≥ ' : '');

function backlogNote(label: string, mode: ModeResult): string {
  const { backlog, newGroupsSent } = mode.store;
  if (backlog.pending === 0) return `${label}: the notification processor kept up: nothing was left to apply when the load stopped.`;
  const took = backlog.drained ? `applied them in ${seconds(backlog.drainMs)} more` : `had not applied them ${seconds(backlog.drainMs)} later`;
  return `${label}: ${count(backlog.pending)} notifications were stored but not yet applied when the load stopped; the notification processor ${took} (then ${count(backlog.incidentsAfter)} incidents for ${count(newGroupsSent)} new groups).`;
}

function mixNote(label: string, mode: ModeResult): string {
  const { sent, store } = mode;
  return `${label}: sent to Switchboard ${count(sent.new)} new / ${count(sent.update)} updates / ${count(sent.repeat)} repeats; its store then held ${count(store.notifications)} notifications and ${count(store.incidents)} incidents (${count(store.newGroupsSent)} new groups sent), ${store.statementsPerNotification.toFixed(1)} SQL statements per notification, ${count(store.slackPosts)} Slack posts made; its event loop was blocked up to ${ms(store.loopDelay.max)} (p99 ${ms(store.loopDelay.p99)}).`;
}

function ingestTable(report: IngestReport): Table {
  const rows: string[][] = [];
  const notes = [`Mix: ${MIX_DESCRIPTION}.`, 'Latency is from sending (a) or from the scheduled send time (b) to the whole answer; p99 includes failed requests.'];
  if (report.max) {
    const { bare, switchboard: sw, connections: n } = report.max;
    const share = sw.throughput / bare.throughput;
    rows.push(
      [`(a) max throughput, ${n} connections`, 'notifications/s', perSecond(bare.throughput), `${perSecond(sw.throughput)} (${(share * 100).toFixed(1)} % of bare)`, `≥ ${BAR.throughputShare * 100} % of bare`, verdict(share >= BAR.throughputShare)],
      ['', 'p50', ms(bare.latency.p50), ms(sw.latency.p50), '', ''],
      ['', 'p99', ms(bare.latency.p99), ms(sw.latency.p99), '', ''],
      ['', 'errors', errorsText(bare), errorsText(sw), '', ''],
      ['', 'CPU in cores', cpuText(bare.cpu, false), cpuText(sw.cpu, true), '', ''],
    );
    notes.push(mixNote('(a)', report.max), backlogNote('(a)', report.max));
    if (bare.cpu && bare.cpu.loadGenerator > 0.85) {
      notes.push(`(a): the load generator used ${cores(bare.cpu.loadGenerator)} cores against the bare server: that baseline is limited by the client, so the bare server's real capacity (and a quarter of it) is higher than shown.`);
    }
  }
  if (report.rate) {
    const { bare, switchboard: sw, rate: r } = report.rate;
    rows.push(
      [`(b) fixed rate ${count(r)}/s, open loop`, 'answered 200/s', perSecond(bare.throughput), perSecond(sw.throughput), '', ''],
      ['', 'p50', lowerBound(bare) + ms(bare.latency.p50), lowerBound(sw) + ms(sw.latency.p50), '', ''],
      ['', 'p99', lowerBound(bare) + ms(bare.latency.p99), lowerBound(sw) + ms(sw.latency.p99), `< ${BAR.p99Ms} ms`, verdict(sw.latency.p99 < BAR.p99Ms && (sw.errorKinds.unanswered ?? 0) === 0)],
      ['', 'errors', errorsText(bare), errorsText(sw), '', ''],
      ['', 'CPU in cores', cpuText(bare.cpu, false), cpuText(sw.cpu, true), '', ''],
    );
    notes.push(mixNote('(b)', report.rate), backlogNote('(b)', report.rate));
    notes.push(`(b): the generator sent late by up to ${ms(report.rate.generatorLagP99)} (p99); that lateness is inside the latencies. "unanswered" = no answer 5 s after the last send; their latency counts up to then, so percentiles marked ≥ are lower bounds.`);
  }
  return { title: 'Ingest — POST /alertmanager, real Switchboard (PostgreSQL, outbox sender on) vs bare node:http', header: ['mode', 'measure', 'bare node:http', 'Switchboard', 'bar', ''], rows, notes };
}

function stormTable(s: StormReport): Table {
  const within = s.visibleWithinMs / 1000;
  const remaining = s.groups - s.visibleTotal;
  const threadPings = s.pings.map((p) => p.threadMs);
  const dmPings = s.pings.map((p) => p.dmMs);
  const worst = (list: Array<number | undefined>) => (list.some((d) => d === undefined) ? undefined : Math.max(...(list as number[])));
  const listText = (list: Array<number | undefined>) => list.map((d) => (d === undefined ? 'never' : seconds(d))).join(', ');
  const worstThread = worst(threadPings);
  const worstDm = worst(dmPings);
  const slowest =
    s.slowestVisibleMs !== undefined
      ? seconds(s.slowestVisibleMs)
      : `${count(remaining)} of ${count(s.groups)} never visible in the ${seconds(s.waitedMs)} waited`;
  return {
    title: `Storm — ${count(s.groups)} alert groups in ${s.overMs / 1000} s into one channel, fake Slack enforcing 1 post/s per channel`,
    header: ['measure', 'value', 'bar', ''],
    rows: [
      ['rate-limit errors taken (HTTP 429 from Slack)', count(s.rateLimited), '0', verdict(s.rateLimited === 0)],
      ['incidents lost (group sent, no incident stored)', `${count(s.lostIncidents)} (alerts stored ${count(s.alertsStored)} of ${count(s.alertsSent)})`, '0', verdict(s.lostIncidents === 0 && s.alertsStored === s.alertsSent)],
      [`incidents visible within ${within} s (own thread, or a row of a digest)`, `${count(s.visibleWithinBar)} of ${count(s.groups)}`, 'all', verdict(s.visibleWithinBar === s.groups)],
      ['slowest incident, notification → visible', slowest, `< ${within} s`, verdict(s.slowestVisibleMs !== undefined && s.slowestVisibleMs < s.visibleWithinMs)],
      [`escalation ping in the thread, step due → Slack (${s.pings.length} incidents)`, `worst ${worstThread === undefined ? 'never' : seconds(worstThread)} (${listText(threadPings)})`, `< ${BAR.pingMs / 1000} s`, verdict(worstThread !== undefined && worstThread < BAR.pingMs)],
      ['escalation ping by DM, step due → Slack', `worst ${worstDm === undefined ? 'never' : seconds(worstDm)} (${listText(dmPings)})`, `< ${BAR.pingMs / 1000} s`, verdict(worstDm !== undefined && worstDm < BAR.pingMs)],
      [`incidents at least counted in a digest total within ${within} s`, `${count(s.countedWithinBar)} of ${count(s.groups)}`, '', ''],
      ['incidents with their own thread / in a digest', `${count(s.threads)} / ${count(s.digested)}`, '', ''],
      ['digest messages posted, first one after', `${count(s.digestMessages)}${s.firstDigestAfterMs !== undefined ? `, ${seconds(s.firstDigestAfterMs)}` : ''}`, '', ''],
      [`gap between posts in ${STORM_CHANNEL} until the first digest (sender floor 1.1 s)`, s.postGapMs.posts < 2 ? `${count(s.postGapMs.posts)} post, no gap to measure` : `mean ${seconds(s.postGapMs.mean)}, max ${seconds(s.postGapMs.max)} over ${count(s.postGapMs.posts)} posts`, '', ''],
      ['Switchboard RSS during the storm, process tree at its peak', mb(s.peakRss), `≤ ${FOOTPRINT_BAR.stormRss} MB`, verdict(s.peakRss <= FOOTPRINT_BAR.stormRss * 1_048_576)],
      ['notifications answered 200; answer p50 / p99', `${count(s.answered200)} of ${count(s.groups)}; ${ms(s.latency.p50)} / ${ms(s.latency.p99)}`, '', ''],
    ],
    notes: [
      `Times are the fake Slack's, from when each notification was due (open loop, ${count(s.groups / (s.overMs / 1000))}/s). Visible = its own parent message in ${STORM_CHANNEL}, or named in a digest message there (a row with a button, or a line of its list); "counted" also accepts being inside a digest's total ("…and N more").`,
      'The storm\'s Switchboard runs from its sources under tsx (bench/targets/switchboard-server.ts), whose loader counts in its RSS; `footprint` measures the compiled one.',
      `Escalation pings: ${s.pings.length} incidents opened just before the storm with a policy paging a user and a user group ${'10 s'} after opening, so each step falls due during the storm; measured from the step's due time to the thread reply and the DM reaching Slack.`,
    ],
  };
}

function statementsTable(r: StatementReport): Table {
  return {
    title:
      r.phase === 'accept'
        ? `Accepting one notification — production handler, one connection, one notification at a time (${count(r.notifications)} notifications, ingest mix)`
        : `Applying one notification — the notification processor draining those ${count(r.notifications)} accepted notifications, a batch per transaction`,
    header: ['SQL statement (or phase)', 'calls per notification', 'ms per notification', 'ms each'],
    rows: r.statements.map((s) => [s.sql.length > 110 ? `${s.sql.slice(0, 107)}…` : s.sql, (s.calls / r.notifications).toFixed(2), s.perNotificationMs.toFixed(3), s.eachMs.toFixed(3)]),
    notes: [
      `${r.perNotificationMs.toFixed(2)} ms per notification end to end (${perSecond(1000 / r.perNotificationMs)} ${r.phase === 'accept' ? 'on one connection' : 'by one processor'}); ${r.transactionMs.toFixed(2)} ms of it in the store; ${r.statementsPerNotification.toFixed(1)} SQL statements (round trips) per notification besides BEGIN/COMMIT.`,
    ],
  };
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`;

function footprintTable(r: FootprintReport): Table {
  const idle = `${(r.idleMs / 1000).toFixed(0)} s`;
  const row = (f: Footprint, readyBar: number | undefined, rssBar: number | undefined): string[][] => {
    const peak = Math.max(f.rssReady, f.rssIdle, f.rssLoaded ?? 0);
    return [
      [f.label, 'start → /readyz', seconds(f.readyMs), readyBar ? `≤ ${seconds(readyBar)}` : '', readyBar ? verdict(f.readyMs <= readyBar) : ''],
      ['', `RSS at ready / after ${idle} idle`, `${mb(f.rssReady)} / ${mb(f.rssIdle)}`, rssBar ? `≤ ${rssBar} MB` : '', rssBar ? verdict(Math.max(f.rssReady, f.rssIdle) <= rssBar * 1_048_576) : ''],
      ...(f.rssLoaded !== undefined
        ? [['', `RSS after ${count(r.incidents)} incidents (applied in ${seconds(f.loadMs!)})`, mb(f.rssLoaded), rssBar ? `≤ ${rssBar} MB` : '', rssBar ? verdict(peak <= rssBar * 1_048_576) : '']]
        : []),
    ];
  };
  return {
    title: 'Footprint — compiled Switchboard (`node dist/main.js`), whole process tree, beside a minimal Bolt app with a pg pool',
    header: ['process', 'measure', 'value', 'bar', ''],
    rows: [
      ...row(r.baseline, undefined, undefined),
      ...row(r.postgres, FOOTPRINT_BAR.postgresReadyMs, FOOTPRINT_BAR.postgresRss),
      ...row(r.embeddedFirst, FOOTPRINT_BAR.embeddedFirstMs, FOOTPRINT_BAR.embeddedRss),
      ...row(r.embeddedRestart, FOOTPRINT_BAR.embeddedRestartMs, FOOTPRINT_BAR.embeddedRss),
    ],
    notes: [
      'RSS is the sum of VmRSS over the process and every process under it. Start is from spawning `node` to the first 200 from /readyz (polled every 20 ms), so it includes loading Node itself.',
      'Both Switchboards post to a fake Slack Web API in the bench process (HTTP mode, not the sandbox). The incidents are new alert groups sent 16 at a time; "applied" is when /metrics shows no notification pending.',
    ],
  };
}

async function machine(): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'} (nproc ${availableParallelism()}), Node ${process.version}, PostgreSQL ${rows[0]!.server_version}; load average before the run ${load}`;
}

async function profileTables(dir: string): Promise<Table[]> {
  const tables: Table[] = [];
  for (const label of ['max', 'rate']) {
    const file = await mainThreadProfile(join(dir, `switchboard-server-${label}`));
    if (!file) continue;
    const p = await summarizeProfile(file, 12);
    const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
    tables.push({
      title: `CPU profile of the Switchboard process, mode (${label === 'max' ? 'a' : 'b'}) — self time by area (${(p.totalMs / 1000).toFixed(1)} s sampled)`,
      header: ['area', 'self', 'share'],
      rows: p.byArea.map((a) => [a.area, ms(a.ms), pct(a.share)]),
    });
    tables.push({ title: 'top functions, self time', header: ['function', 'where', 'self', 'share'], rows: p.byFunction.map((f) => [f.name, f.where, ms(f.ms), pct(f.share)]) });
    tables.push({ title: 'project code (src/), total time including callees', header: ['function', 'where', 'total', 'share'], rows: p.inclusiveSrc.map((f) => [f.name, f.where, ms(f.ms), pct(f.share)]) });
  }
  return tables;
}

async function writeDocs(markdown: string, group: string): Promise<void> {
  const current = await readFile(DOCS, 'utf8').catch(() => '# Benchmarks\n');
  const { start: startMark, end: endMark } = marks(group);
  const block = `${startMark}\n${markdown}\n${endMark}`;
  const start = current.indexOf(startMark);
  const end = current.indexOf(endMark);
  const next = start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + endMark.length) : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(DOCS, next);
}

async function main(): Promise<void> {
  const began = new Date();
  const about = await machine();
  const command = `tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  log(`Switchboard benchmarks — ${began.toISOString()}\n${about}\n`);
  const tables: Table[] = [];
  const profileDir = values.profile || values['keep-profile'] ? await mkdtemp(join(tmpdir(), 'sb-bench-profile-')) : undefined;
  try {
    if (which === 'ingest' || which === 'all') {
      log('ingest…');
      const report = await runIngest({
        connections,
        rate,
        maxWarmupMs: 1_500,
        maxDurationMs: 6_000,
        // A Switchboard just started runs its first second or two unoptimised (JIT) and falls behind
        // at 1,000/s; the bar is about a warmed-up instance, so its first 3 s are not measured.
        rateWarmupMs: 3_000,
        rateDurationMs: 10_000,
        rateDrainMs: 5_000,
        logLevel,
        log,
        ...(profileDir ? { cpuProfileDir: profileDir } : {}),
      });
      tables.push(ingestTable(report));
    }
    if (which === 'storm' || which === 'all') {
      log('storm…');
      const report = await runStorm({ groups: 1_000, overMs: 10_000, visibleWithinMs: BAR.stormVisibleMs, pingsDueAtMs: [2_500, 5_000, 7_500], logLevel, log });
      tables.push(stormTable(report));
    }
    if (which === 'footprint') {
      log('footprint…');
      tables.push(footprintTable(await runFootprint({ idleMs: Number(values['idle-seconds']) * 1000, incidents: 1_000, log })));
    }
    if (which === 'statements') {
      log('statements…');
      for (const report of await runStatements({ notifications: 1_000, warmup: 200, log })) tables.push(statementsTable(report));
    }
    const profiles = profileDir ? await profileTables(profileDir) : [];
    const took = (Date.now() - began.getTime()) / 1000;
    const header = `Run ${began.toISOString()} (${took.toFixed(0)} s) with \`${command}\`\nMachine: ${about}${values.profile ? '\nThe Switchboard ran under --cpu-prof: its figures are lower than without.' : ''}`;
    process.stdout.write(`\n${header}\n\n${[...tables, ...profiles].map(toText).join('\n\n')}\n`);
    if (values['write-docs']) {
      const md = [`Run on ${began.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${took.toFixed(0)} s, with:`, '', '```sh', `npx ${command}`, '```', '', `Machine: ${about}.`, '', ...tables.map((t) => toMarkdown(t)).flatMap((t) => [t, ''])].join('\n');
      await writeDocs(md.trimEnd(), which === 'footprint' ? 'footprint' : 'results');
      log(`\nwrote ${DOCS.pathname}`);
    }
  } finally {
    if (profileDir && values['keep-profile']) log(`CPU profiles kept in ${profileDir} (Chrome DevTools → Performance → Load profile); remove it when done.`);
    else if (profileDir) await rm(profileDir, { recursive: true, force: true });
  }
}

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  log('\ninterrupted: stopping targets and dropping bench databases…');
  killTargets();
  void dropLeftoverDatabases().finally(() => process.exit(130));
});

main().catch(async (error: unknown) => {
  if (interrupted) return;
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  killTargets();
  await dropLeftoverDatabases();
  process.exitCode = 1;
});
