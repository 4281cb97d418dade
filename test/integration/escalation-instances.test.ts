import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { timelineOf } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { firing, notification, parsed } from '../fixtures/alertmanager/notifications.js';
import { at, buildWorld, T0, type World } from '../fixtures/escalation/world.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const INSTANCES = 3;
const INCIDENTS = 12;

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
const dbs: Db[] = [];
let worlds: World[];
const clock = { now: T0 };

beforeAll(async () => {
  temp = await createTempDatabase('sb_esc_multi');
  for (let i = 0; i < INSTANCES; i++) dbs.push(createPostgresDb(temp.url, { max: 4, applicationName: `switchboard-${i}` }));
  await Promise.all(dbs.map((db) => migrate(db)));
  // Three instances on one PostgreSQL database: each its own pool, intake, desk and escalator.
  worlds = dbs.map((db) => buildWorld(db, clock));
});
afterAll(async () => {
  await Promise.all(dbs.map((db) => db.close()));
  await temp?.drop();
});

describe('three instances on one database', () => {
  it('fire each step exactly once, and none after an acknowledgement that races the ticks', async () => {
    const db = dbs[0]!;
    const opened = await Promise.all(
      Array.from({ length: INCIDENTS }, (_, i) => {
        const groupKey = `{}:{alertname="HighErrorRate", run="${randomUUID()}"}`;
        return worlds[i % INSTANCES]!.intake.receive(parsed(notification([firing(`multi${i}`, T0.toISOString(), { severity: 'critical' })], { groupKey })));
      }),
    );
    // Every other incident is acknowledged at minute 15, at the same moment the three tickers look for due steps.
    const acknowledged = new Set(opened.filter((_, i) => i % 2 === 1).map((o) => o.incidentId));
    for (let minute = 1; minute <= 75; minute++) {
      clock.now = at(minute);
      const acks = minute === 15 ? [...acknowledged].map((id, i) => worlds[i % INSTANCES]!.desk.acknowledge(id, 'U01SENIOR')) : [];
      await Promise.all([...worlds.map((w) => w.escalator.tickNow()), ...acks]);
    }

    for (const incident of opened) {
      const timeline = await timelineOf(db, incident.incidentId);
      const levels = timeline.filter((e) => e.kind === 'escalated').map((e) => e.data.level as number);
      const { rows: steps } = await db.query<{ step: number }>('SELECT step FROM escalation_steps WHERE incident_id = $1 ORDER BY step', [incident.incidentId]);
      const { rows: dms } = await db.query<{ user_id: string }>(`SELECT user_id FROM outbox WHERE kind = 'dm' AND payload ->> 'text' LIKE $1 ORDER BY id`, [
        `%incident #${incident.number} %`,
      ]);
      if (!acknowledged.has(incident.incidentId)) {
        expect(levels).toEqual([1, 2, 3, 4]);
        expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
        expect(dms.map((d) => d.user_id)).toEqual(['U01CCC', 'U01SENIOR', 'U01CTO']);
        continue;
      }
      // Level 2 is due at minute 15 too: whichever committed first decides whether it paged, never both ways.
      const ackIndex = timeline.findIndex((e) => e.kind === 'acknowledged');
      expect(ackIndex).toBeGreaterThan(0);
      expect(timeline.slice(ackIndex).filter((e) => e.kind === 'escalated')).toEqual([]);
      expect([[1], [1, 2]]).toContainEqual(levels);
      expect(steps.map((s) => s.step)).toEqual(levels.map((l) => l - 1));
      expect(dms.map((d) => d.user_id)).toEqual(levels.length === 2 ? ['U01CCC', 'U01SENIOR'] : ['U01CCC']);
    }
    for (const world of worlds) expect(world.errors).toEqual([]);
    // Each instance counts what it fired; together they count every step once.
    const fired = await Promise.all(worlds.map(async (w) => (await w.metrics.getSingleMetric('switchboard_escalations_total')!.get()).values.reduce((sum, v) => sum + v.value, 0)));
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM escalation_steps');
    expect(fired.reduce((a, b) => a + b, 0)).toBe(rows[0]!.n);
  });
});
