import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { timelineOf } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { firing, notification, parsed } from '../fixtures/alertmanager/notifications.js';
import { at, buildWorld, T0, type World } from '../fixtures/escalation/world.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = 'test/fixtures/escalation/escalator-child.ts';

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Db;
let world: World;
const clock = { now: T0 };
const children = new Set<ChildProcess>();

beforeAll(async () => {
  temp = await createTempDatabase('sb_esc_kill');
  db = createPostgresDb(temp.url, { max: 4 });
  await migrate(db);
  world = buildWorld(db, clock);
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([...children].map(exited));
  children.clear();
});
afterAll(async () => {
  await db?.close();
  await temp?.drop();
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the escalator child with its clock at `now`; resolves once it ticks. */
async function startChild(now: Date, applicationName: string): Promise<ChildProcess & { stderrText: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: temp.url, ESCALATION_NOW: now.toISOString(), APPLICATION_NAME: applicationName },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the escalator child did not start:\n${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the escalator child exited with ${code}:\n${stderr}`));
    });
  });
  return Object.assign(child, { stderrText: () => stderr });
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = async (sql: string, params: unknown[]) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
const backends = (name: string, waitingOnTimeline = false) =>
  count(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE application_name = $1${waitingOnTimeline ? ` AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO timeline%'` : ''}`,
    [name],
  );

describe('an escalator killed with SIGKILL while a step is due', () => {
  it('fires the step once when started again', async () => {
    clock.now = at(0);
    const groupKey = `{}:{alertname="HighErrorRate", run="${randomUUID()}"}`;
    const incident = await world.intake.receive(parsed(notification([firing('kill0001', at(0).toISOString(), { severity: 'critical' })], { groupKey })));
    const levels = async () => (await timelineOf(db, incident.incidentId)).filter((e) => e.kind === 'escalated').map((e) => e.data.level);
    expect(await levels()).toEqual([1]);

    // Hold the timeline so the child's step transaction stops half-way: row claimed, progress and
    // step written, not committed. Then kill it there.
    const blocker = new pg.Client({ connectionString: temp.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE timeline IN EXCLUSIVE MODE');
      const first = await startChild(at(16), 'escalation-child-1');
      await eventually(() => backends('escalation-child-1', true), (n) => n > 0, 'the child to wait inside its step transaction').catch(async (e) => {
        throw new Error(`${e.message}\n${first.stderrText()}\n${JSON.stringify((await db.query("SELECT application_name, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = current_database()")).rows)}`);
      });
      first.kill('SIGKILL');
      await exited(first);
      expect(first.signalCode).toBe('SIGKILL');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    // Its server session ends once it finds its client gone, rolling the half-done step back.
    await eventually(() => backends('escalation-child-1'), (n) => n === 0, 'the killed child’s session to end');
    expect(await levels()).toEqual([1]);
    expect(await count('SELECT count(*)::int AS n FROM escalation_steps WHERE incident_id = $1', [incident.incidentId])).toBe(1);
    expect((await db.query('SELECT notified_steps FROM escalations WHERE incident_id = $1', [incident.incidentId])).rows).toEqual([{ notified_steps: 1 }]);

    const second = await startChild(at(16), 'escalation-child-2');
    await eventually(() => levels(), (l) => l.length === 2, 'the step to fire after the restart');
    // Let it tick a few more times, then stop it cleanly.
    await new Promise((r) => setTimeout(r, 600));
    second.kill('SIGTERM');
    await exited(second);
    expect(second.exitCode, second.stderrText()).toBe(0);

    expect(await levels()).toEqual([1, 2]);
    expect(await count('SELECT count(*)::int AS n FROM escalation_steps WHERE incident_id = $1', [incident.incidentId])).toBe(2);
    const dms = await db.query<{ user_id: string }>(`SELECT user_id FROM outbox WHERE kind = 'dm' AND payload ->> 'text' LIKE $1 ORDER BY id`, [`%incident #${incident.number} %`]);
    expect(dms.rows.map((r) => r.user_id)).toEqual(['U01CCC', 'U01SENIOR']);
    const replies = await db.query<{ text: string }>(`SELECT payload ->> 'text' AS text FROM outbox WHERE kind = 'reply' AND thread_key = $1 ORDER BY id`, [`incident:${incident.incidentId}`]);
    expect(replies.rows.map((r) => r.text)).toEqual(['📣 Escalated to level 1 of 4: <@U01CCC>', '📣 Escalated to level 2 of 4: <@U01SENIOR>']);
  });
});
