import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import type { Dispatcher } from '../../src/commands/dispatch.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { createJobScheduler, type JobScheduler } from '../../src/jobs/create-job-scheduler.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const silent = pino({ level: 'silent' });
const noDispatch: Dispatcher = { dispatch: () => Promise.reject(new Error('the audit must not dispatch')), drain: () => Promise.resolve() };
const catalog = parseCatalog(
  'version: 1\nservices:\n  api: { name: API }\ndefaultRoute: { channel: C0OPS }\nroutes:\n  - { name: api, match: { service: api }, channel: C0API }\njobs:\n  healthReport: { enabled: false }\n',
  'audit.yml',
  {},
);

describe.each(['postgresql', 'pglite'] as const)('escalation audit on %s', (kind) => {
  let db: Db;
  let drop: (() => Promise<void>) | undefined;
  let clock = new Date('2026-01-15T10:00:00Z');
  let audit: JobScheduler;

  beforeAll(async () => {
    if (kind === 'postgresql') {
      const temp = await createTempDatabase('sb_jobs_audit');
      drop = temp.drop;
      db = createPostgresDb(temp.url);
    } else {
      db = await createPgliteDb(undefined);
    }
    await migrate(db);
    audit = createJobScheduler({ db, catalog, dispatcher: noDispatch, outbox: createOutbox(), logger: silent, now: () => clock, instanceId: `audit-${kind}` });
  });

  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  /** An open incident whose escalation should act at `dueAt`; returns its number. */
  async function escalating(title: string, dueAt: Date, options: { notifiedSteps?: number; acknowledged?: boolean; status?: 'firing' | 'resolved' } = {}): Promise<{ id: string; number: number }> {
    const id = randomUUID();
    const opened = new Date(dueAt.getTime() - 15 * 60_000);
    const resolved = options.status === 'resolved';
    const { rows } = await db.query<{ number: number }>(
      `INSERT INTO incidents (id, receiver, group_key, status, severity, title, started_at, opened_at, updated_at, resolved_at, acknowledged_by, acknowledged_at)
       VALUES ($1, 'switchboard', $2, $3, 'critical', $4, $5, $5, $5, $6, $7, $8) RETURNING number`,
      [id, `{}:{alertname="${title}"}`, options.status ?? 'firing', title, opened, resolved ? dueAt : null, options.acknowledged ? 'U0ACK' : null, options.acknowledged ? opened : null],
    );
    await db.query('INSERT INTO escalations (incident_id, started_at, notified_steps, next_due_at, updated_at) VALUES ($1, $2, $3, $4, $2)', [id, opened, options.notifiedSteps ?? 0, dueAt]);
    return { id, number: rows[0]!.number };
  }

  const minute = (iso: string) => new Date(iso);
  const tick = async (iso: string) => {
    clock = minute(iso);
    return audit.runNow('escalationAudit', clock);
  };
  const posts = async (iso: string) =>
    (await db.query<{ channel: string; priority: number; payload: { text: string } }>('SELECT channel, priority, payload FROM outbox WHERE message_key = $1', [`job:escalationAudit:${minute(iso).toISOString()}`])).rows;

  it('warns in the default channel about steps more than a minute late, once, and says when all is on time again', async () => {
    expect(await tick('2026-01-15T10:00:00Z')).toMatchObject({ status: 'succeeded', summary: 'escalations on time' });

    const late = await escalating('DiskFull <@here>', minute('2026-01-15T10:00:30Z'), { notifiedSteps: 1 });
    await escalating('Fine for now', minute('2026-01-15T10:01:10Z'));
    await escalating('Closed', minute('2026-01-15T09:00:00Z'), { status: 'resolved' });

    // Due 10:00:30: at 10:01 it is 30 s late, within the minute allowed.
    expect((await tick('2026-01-15T10:01:00Z')).summary).toBe('escalations on time');
    expect(await posts('2026-01-15T10:01:00Z')).toEqual([]);

    const warned = await tick('2026-01-15T10:02:00Z');
    expect(warned).toMatchObject({ status: 'succeeded', summary: '1 escalation step overdue (1 new)' });
    const [warning] = await posts('2026-01-15T10:02:00Z');
    expect(warning).toMatchObject({ channel: 'C0OPS', priority: 0 });
    const lines = warning!.payload.text.split('\n');
    expect(lines[0]).toContain('*Escalations are running late.* 1 step is more than 1m overdue');
    // The alert's text is escaped: no @here ping from a title.
    expect(lines[1]).toMatch(new RegExp(`^• #${late.number} DiskFull (?!<@here>).*: step 2 was due <!date\\^\\d+\\^.*>, 1m late$`));
    expect(lines).toHaveLength(2);

    // Still late a minute later, and the other one is now late too: one new warning, listing both.
    const again = await tick('2026-01-15T10:03:00Z');
    expect(again.summary).toBe('2 escalation steps overdue (1 new)');
    expect((await posts('2026-01-15T10:03:00Z'))[0]!.payload.text.split('\n')).toHaveLength(3);

    // Nothing new: no message, however long it stays late.
    expect((await tick('2026-01-15T10:04:00Z')).summary).toBe('2 escalation steps overdue (0 new)');
    expect(await posts('2026-01-15T10:04:00Z')).toEqual([]);

    await db.query('UPDATE escalations SET next_due_at = NULL');
    expect((await tick('2026-01-15T10:05:00Z')).summary).toBe('escalations on time again');
    expect((await posts('2026-01-15T10:05:00Z'))[0]).toMatchObject({ channel: 'C0OPS', priority: 1, payload: { text: '✓ Escalations are on time again: no step is overdue.' } });
    expect((await tick('2026-01-15T10:06:00Z')).summary).toBe('escalations on time');
    expect(await posts('2026-01-15T10:06:00Z')).toEqual([]);
  });

  it('counts a late reminder of an acknowledged incident too', async () => {
    const acked = await escalating('Acknowledged', minute('2026-01-15T11:00:00Z'), { acknowledged: true });
    const result = await tick('2026-01-15T11:05:00Z');
    expect(result.summary).toBe('1 escalation step overdue (1 new)');
    expect((await posts('2026-01-15T11:05:00Z'))[0]!.payload.text).toContain(`• #${acked.number} Acknowledged: reminder was due`);
  });
});
