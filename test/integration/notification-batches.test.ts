import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntake } from '../../src/alerts/intake.js';
import { createNotificationProcessor } from '../../src/alerts/notification-processor.js';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createIncidentProjector } from '../../src/alerts/project-incident.js';
import { createBatchChannelLock, createStormRouter, createThreadOpener } from '../../src/alerts/storm.js';
import { allActions } from '../../src/commands/actions/index.js';
import { createRegistry } from '../../src/commands/registry.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { firing, notification, parsed } from '../fixtures/alertmanager/notifications.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { eventually } from '../helpers/eventually.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const TEAMS = ['red', 'green', 'blue'];
const catalog = parseCatalog(
  `version: 1
services:
  api-gateway: { name: Gateway }
routes:
${TEAMS.map((t) => `  - { name: ${t}, match: { team: ${t} }, channel: C0${t.toUpperCase()} }`).join('\n')}
defaultRoute: { channel: C0ALERTS }
storm: { threshold: 2, window: 1m, quietAfter: 5m }
`,
  'batches.yml',
  {},
);

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Db;
beforeAll(async () => {
  temp = await createTempDatabase('sb_batches');
  db = createPostgresDb(temp.url, { max: 6 });
  await migrate(db);
});
afterAll(async () => {
  await db.close();
  await temp.drop();
});

describe('concurrent notification batches', () => {
  it('apply a storm spread over several channels without a deadlock or a batch falling back', async () => {
    const { logger, lines: logLines } = capturedLogger();
    const outbox = createOutbox();
    const now = () => new Date('2026-03-01T10:00:00Z');
    const storms = createStormRouter({ config: catalog.storm, outbox });
    const projector = createIncidentProjector({ catalog, registry: createRegistry(allActions), outbox, now, storms });
    const intake = createIntake({ db, now, onIncidentChanged: projector, onIncidentsChanged: projector.many, lockForBatch: createBatchChannelLock(catalog, storms) });
    // Every batch holds groups of all three channels, in an order that differs from batch to batch.
    const groups = 120;
    for (let i = 0; i < groups; i++) {
      const team = TEAMS[(i * 7 + Math.floor(i / 3)) % TEAMS.length]!;
      await intake.accept(parsed(notification([firing(`f${i}`, '2026-03-01T09:59:00Z', { team })], { groupKey: `{}:{n="${i}"}` })));
    }
    const processor = createNotificationProcessor({ db, intake, logger, batchSize: 6, batchConcurrency: 3, intervalMs: 10 });
    processor.start();
    const pending = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE processed_at IS NULL AND failed_at IS NULL')).rows[0]!.n;
    await eventually('every notification applied', async () => (await pending()) === 0, 30_000, 50);
    await processor.stop();

    expect(logLines.filter((l) => l.includes('could not be applied together'))).toEqual([]);
    const { rows: incidents } = await db.query<{ channel: string; n: number }>('SELECT channel, count(*)::int AS n FROM incidents GROUP BY channel ORDER BY channel');
    expect(incidents.reduce((sum, r) => sum + r.n, 0)).toBe(groups);
    expect(incidents.map((r) => r.channel)).toEqual(['C0BLUE', 'C0GREEN', 'C0RED']);
    // Each channel stormed into one digest, posted once.
    const { rows: digests } = await db.query<{ channel: string; posts: number }>(
      `SELECT d.channel, (SELECT count(*)::int FROM outbox o WHERE o.message_key = d.message_key AND o.kind = 'post') AS posts FROM storm_digests d ORDER BY d.channel`,
    );
    expect(digests).toEqual(TEAMS.map((t) => ({ channel: `C0${t.toUpperCase()}`, posts: 1 })).sort((a, b) => a.channel.localeCompare(b.channel)));

    // Alerts join every group, in batches again: an incident only listed in a digest writes nothing
    // of its own (its digest is re-rendered), while one with a thread, from before the storm or
    // opened from the digest, gets its parent edited and a reply.
    const { rows: digested } = await db.query<{ incident_id: string }>('SELECT s.incident_id FROM storm_incidents s JOIN incidents i ON i.id = s.incident_id ORDER BY i.number');
    expect(digested.length).toBeGreaterThan(100);
    const opened = digested[0]!.incident_id;
    expect(await createThreadOpener({ db, project: projector }).open(opened)).toEqual({ status: 'opened' });
    const { rows: threaded } = await db.query<{ id: string }>('SELECT id FROM incidents WHERE id NOT IN (SELECT incident_id FROM storm_incidents)');
    const lastBefore = (await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM outbox')).rows[0]!.id;
    for (let i = 0; i < groups; i++) {
      const team = TEAMS[(i * 7 + Math.floor(i / 3)) % TEAMS.length]!;
      const alerts = [firing(`f${i}`, '2026-03-01T09:59:00Z', { team }), firing(`g${i}`, '2026-03-01T09:59:30Z', { team })];
      await intake.accept(parsed(notification(alerts, { groupKey: `{}:{n="${i}"}` })));
    }
    processor.start();
    await eventually('every update applied', async () => (await pending()) === 0, 30_000, 50);
    await processor.stop();

    expect(logLines.filter((l) => l.includes('could not be applied together'))).toEqual([]);
    const { rows: written } = await db.query<{ key: string; kind: string }>(
      `SELECT coalesce(message_key, thread_key) AS key, kind FROM outbox WHERE id > $1 AND coalesce(message_key, thread_key) LIKE 'incident:%' ORDER BY 1, 2`,
      [lastBefore],
    );
    const withThread = [...threaded.map((r) => r.id), opened].map((id) => `incident:${id}`).sort();
    expect(withThread.length).toBeGreaterThan(1);
    expect(written).toEqual(withThread.flatMap((key) => [{ key, kind: 'reply' }, { key, kind: 'update' }]));
  });
});
