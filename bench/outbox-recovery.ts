/**
 * How soon queued Slack writes go out once Slack recovers from an outage. 1,000 writes (250
 * channels × a parent and three replies) are queued while the fake Slack answers every call 503;
 * after the outage the time from recovery to the last write delivered is measured, for the sender
 * as built and, in the same run, for a baseline with the former settings (backoff capped at 60 s,
 * no wake-up on recovery). Usage: npx tsx bench/outbox-recovery.ts [--outage-seconds 20]
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createOutbox } from '../src/alerts/outbox.js';
import type { OutboxMessage } from '../src/alerts/outbox-port.js';
import { createSlackChatPoster, createSlackWebClient } from '../src/integrations/slack/chat-poster.js';
import { createOutboxSender, type OutboxSenderOptions } from '../src/integrations/slack/outbox-sender.js';
import { migrate } from '../src/store/migrate.js';
import { createPostgresDb } from '../src/store/postgres-db.js';
import { startFakeSlack } from '../test/fakes/fake-slack.js';
import { createTempDatabase } from '../test/helpers/temp-database.js';
import { seconds } from './lib/stats.js';

const { values } = parseArgs({ options: { 'outage-seconds': { type: 'string', default: '20' } } });
const outageMs = Number(values['outage-seconds']) * 1000;
const CHANNELS = 250;
const REPLIES = 3;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Result {
  label: string;
  recoveryToLastMs: number;
  recoveryToFirstMs: number;
  refusedDuringOutage: number;
  delivered: number;
}

async function measure(label: string, settings: Partial<OutboxSenderOptions>): Promise<Result> {
  const temp = await createTempDatabase('sb_bench_outbox');
  const db = createPostgresDb(temp.url);
  const slack = await startFakeSlack({ token: 'xoxb-bench-token' });
  try {
    await migrate(db);
    const outbox = createOutbox();
    await db.transaction(async (tx) => {
      for (let c = 0; c < CHANNELS; c += 1) {
        const channel = `C0BENCH${String(c).padStart(4, '0')}`;
        const writes: OutboxMessage[] = [{ kind: 'post', channel, messageKey: `incident:${channel}`, priority: 'page', text: `${channel} parent` }];
        for (let r = 1; r <= REPLIES; r += 1) writes.push({ kind: 'reply', threadKey: `incident:${channel}`, priority: 'page', text: `${channel} reply ${r}` });
        for (const w of writes) await outbox.enqueue(tx, w);
      }
    });
    const total = CHANNELS * (1 + REPLIES);
    const poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-bench-token', slackApiUrl: slack.url, timeoutMs: 10_000 }));
    const sender = createOutboxSender({ db, poster, logger: pino({ level: 'silent' }), ...settings });
    slack.setOutage([{ status: 503 }]);
    sender.start();
    log(`${label}: Slack answers 503 for ${seconds(outageMs)} while ${total} writes wait`);
    await new Promise((r) => setTimeout(r, outageMs));
    const refusedDuringOutage = slack.rejected.length;
    slack.setOutage(undefined);
    const recovered = Date.now();
    let first = 0;
    for (;;) {
      const posts = slack.callsTo('chat.postMessage').length;
      if (posts > 0 && !first) first = Date.now();
      if (posts >= total) break;
      if (Date.now() - recovered > 300_000) throw new Error(`${label}: only ${posts} of ${total} delivered 5 minutes after recovery`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const last = Math.max(...slack.callsTo('chat.postMessage').map((c) => c.at));
    await sender.stop();
    return { label, recoveryToLastMs: last - recovered, recoveryToFirstMs: first - recovered, refusedDuringOutage, delivered: total };
  } finally {
    await slack.close();
    await db.close();
    await temp.drop();
  }
}

const baseline = await measure('baseline (backoff cap 60 s, no wake-up)', { backoffCapMs: 60_000, wakeOnRecovery: false });
const built = await measure('as built (cap 5 s, probe and wake-up)', {});
const rows = [baseline, built].map((r) => `| ${r.label} | ${r.delivered} | ${r.refusedDuringOutage} | ${seconds(r.recoveryToFirstMs)} | ${seconds(r.recoveryToLastMs)} |`);
process.stdout.write(
  [
    `Outbox recovery: ${CHANNELS} channels × (parent + ${REPLIES} replies) queued during a ${seconds(outageMs)} outage (every call 503).`,
    '',
    '| sender | writes | calls refused during the outage | recovery → first delivered | recovery → last delivered |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
