import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import type { OutboxMessage } from '../../src/alerts/outbox-port.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { startFakeSlack, type FakeSlack, type StoredMessage } from '../fakes/fake-slack.js';
import { eventually } from '../helpers/eventually.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = 'test/fixtures/outbox/sender-child.ts';
const CHANNELS = Array.from({ length: 8 }, (_, i) => `C0KILL${i}`);
const USERS = Array.from({ length: 10 }, (_, i) => `U0KILL${i}`);

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Db;
let slack: FakeSlack;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  temp = await createTempDatabase('sb_outbox_kill');
  db = createPostgresDb(temp.url, { max: 4 });
  await migrate(db);
  slack = await startFakeSlack();
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([...children].map(exited));
  children.clear();
});
afterAll(async () => {
  await slack?.close();
  await db?.close();
  await temp?.drop();
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startChild(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: temp.url, SLACK_API_URL: slack.url, LEASE_MS: '1500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sender child did not start:\n${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sender child exited with ${code}:\n${stderr}`));
    });
  });
  return child;
}

const keyOf = (m: StoredMessage) => m.metadata?.event_payload.message_key as string | undefined;

describe('a sender killed with SIGKILL while Slack answers slowly', () => {
  it('sends every parent, reply and DM exactly once after a restart', { timeout: 90_000 }, async () => {
    const outbox = createOutbox();
    await db.transaction(async (tx) => {
      const writes: OutboxMessage[] = [];
      for (const c of CHANNELS) {
        writes.push({ kind: 'post', channel: c, messageKey: `incident:${c}`, priority: 'routine', text: `${c} parent` });
        for (let r = 1; r <= 2; r += 1) writes.push({ kind: 'reply', threadKey: `incident:${c}`, priority: 'page', text: `${c} reply ${r}` });
      }
      for (const u of USERS) for (let d = 1; d <= 2; d += 1) writes.push({ kind: 'dm', userId: u, priority: 'page', text: `${u} page ${d}` });
      for (const w of writes) await outbox.enqueue(tx, w);
    });

    // Slack does each call at once but answers it 1.5 s later: a kill then leaves calls made and unrecorded.
    slack.setLatency(1_500);
    const first = await startChild();
    const isReply = (c: { method: string; args: Record<string, unknown> }) => c.method === 'chat.postMessage' && Boolean(c.args.thread_ts);
    const isDm = (c: { method: string; args: Record<string, unknown> }) => c.method === 'chat.postMessage' && String(c.args.channel).startsWith('D');
    await slack.waitFor(isReply, 30_000);
    await slack.waitFor(isDm, 30_000);
    first.kill('SIGKILL');
    await exited(first);
    expect(first.signalCode).toBe('SIGKILL');
    const inFlight = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE state = 'pending' AND sending_since IS NOT NULL AND kind IN ('reply', 'dm')`)).rows[0]!.n;
    expect(inFlight).toBeGreaterThan(0);

    slack.setLatency(0);
    const second = await startChild();
    await eventually('every write sent', async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE state <> 'sent'`)).rows[0]!.n === 0, 60_000);
    second.kill('SIGTERM');
    await exited(second);

    const messages = slack.channels().flatMap((c) => slack.messages(c));
    const perKey = new Map<string, number>();
    for (const m of messages) perKey.set(keyOf(m) ?? `(no key) ${m.text}`, (perKey.get(keyOf(m) ?? `(no key) ${m.text}`) ?? 0) + 1);
    const duplicates = [...perKey].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    expect(messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts).filter((m) => m.channel.startsWith('C0KILL'))).toHaveLength(CHANNELS.length);
    expect(messages.filter((m) => m.thread_ts && m.thread_ts !== m.ts)).toHaveLength(CHANNELS.length * 2);
    expect(messages.filter((m) => m.channel.startsWith('D'))).toHaveLength(USERS.length * 2);
    expect(slack.callsTo('conversations.replies').length + slack.callsTo('conversations.history').length).toBeGreaterThan(0);
  });
});
