import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/alerts/apply-notification.js';
import { createIntake } from '../../src/alerts/intake.js';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createIncidentProjector, incidentMessageKey } from '../../src/alerts/project-incident.js';
import { createDigestRenderer, createStormRouter, createThreadOpener, STORM_DIGEST } from '../../src/alerts/storm.js';
import { allActions } from '../../src/commands/actions/index.js';
import { createRegistry } from '../../src/commands/registry.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import type { Db } from '../../src/store/db.js';
import { appendTimeline } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { firing, notification, parsed, resolved } from '../fixtures/alertmanager/notifications.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';
import { createTempDatabase } from '../helpers/temp-database.js';

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
beforeAll(async () => {
  temp = await createTempDatabase('sb_storm');
});
afterAll(async () => {
  await temp.drop();
});

const T0 = new Date('2026-03-01T10:00:00Z');
const registry = createRegistry(allActions);

interface OutboxRow {
  id: number;
  kind: string;
  channel: string | null;
  message_key: string | null;
  thread_key: string | null;
  priority: number;
  payload: { text: string; blocks?: Array<{ block_id?: string; accessory?: { value?: string } }> };
}

describe.each(STORES)('storms on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened));

  /** One channel per test, so tests sharing the database never see each other's storms. */
  function setup(storm = '{ threshold: 3, window: 1m, quietAfter: 5m }') {
    const channel = `C0${randomBytes(4).toString('hex').toUpperCase()}`;
    const catalog = parseCatalog(`version: 1\nservices:\n  api-gateway: { name: Gateway }\ndefaultRoute: { channel: ${channel} }\nstorm: ${storm}\n`, 'storm.yml', {});
    const clock = { now: T0 };
    const now = () => clock.now;
    const outbox = createOutbox();
    const projector = createIncidentProjector({ catalog, registry, outbox, now, storms: createStormRouter({ config: catalog.storm, outbox }) });
    const intake = createIntake({ db, now, onIncidentChanged: projector });
    const threads = createThreadOpener({ db, project: projector });
    let group = 0;
    const fire = async (fingerprint = `f${++group}`) => {
      const groupKey = `{}:{channel="${channel}", n="${fingerprint}"}`;
      const wire = notification([firing(fingerprint, T0.toISOString())], { groupKey });
      const received = await intake.receive(parsed(wire));
      return { ...received, wire };
    };
    const rows = async () => (await db.query<OutboxRow>('SELECT * FROM outbox ORDER BY id')).rows;
    const rowsOf = async (incidentId: string) => (await rows()).filter((r) => r.message_key === incidentMessageKey(incidentId) || r.thread_key === incidentMessageKey(incidentId));
    const digestRows = async () => (await rows()).filter((r) => r.message_key?.startsWith(`digest:${channel}:`));
    // What the sender sends for a waiting edit queued with renderAtSend.
    const renderDigest = createDigestRenderer({ db, now });
    return { channel, clock, projector, intake, threads, fire, rows, rowsOf, digestRows, renderDigest };
  }

  it('gives the first `threshold` incidents a thread each and lists the rest in one digest', async () => {
    const s = setup();
    const opened = [];
    for (let i = 0; i < 10; i++) opened.push(await s.fire());
    const posts = await Promise.all(opened.map((o) => s.rowsOf(o.incidentId)));
    expect(posts.map((r) => r.map((x) => x.kind))).toEqual([['post'], ['post'], ['post'], [], [], [], [], [], [], []]);

    const digest = await s.digestRows();
    expect(digest.map((r) => [r.kind, r.channel])).toEqual([
      ['post', s.channel],
      ['update', null],
    ]);
    expect(digest[0]!.message_key).toBe(`digest:${s.channel}:${T0.getTime()}`);
    // The edit waiting for the post is rendered when sent: all seven digested incidents, one Open thread button each.
    expect(digest[1]!.payload).toEqual({ renderAtSend: STORM_DIGEST });
    const sent = await s.renderDigest(digest[0]!.message_key!);
    expect(sent.text).toMatch(/^⚡ 7 new incidents/);
    const buttons = (sent.blocks as NonNullable<OutboxRow['payload']['blocks']>).flatMap((b) => (b.accessory?.value ? [JSON.parse(b.accessory.value).i as string] : []));
    expect(new Set(buttons)).toEqual(new Set(opened.slice(3).map((o) => o.incidentId)));
    const listed = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM storm_incidents WHERE message_key = $1', [digest[0]!.message_key]);
    expect(listed.rows[0]!.n).toBe(7);
  });

  it('folds a digested incident’s changes into the digest instead of queueing writes nobody can send', async () => {
    const s = setup();
    const opened = [];
    for (let i = 0; i < 5; i++) opened.push(await s.fire());
    const digested = opened[4]!;
    s.clock.now = new Date(T0.getTime() + 10_000);
    const wire = notification([resolved(firing('f5', T0.toISOString()), new Date(T0.getTime() + 9_000).toISOString())], { groupKey: digested.wire.groupKey });
    const result = await s.intake.receive(parsed(wire));
    expect(result.events.map((e) => e.kind)).toEqual(['alerts_resolved', 'resolved']);

    expect(await s.rowsOf(digested.incidentId)).toEqual([]);
    const [post, update] = await s.digestRows();
    expect(update!.payload).toEqual({ renderAtSend: STORM_DIGEST });
    const sent = (await s.renderDigest(post!.message_key!)).blocks as NonNullable<OutboxRow['payload']['blocks']>;
    expect(sent.find((b) => b.block_id === `digest-${digested.incidentId}`)).toMatchObject({ text: { text: expect.stringContaining('resolved') } });
  });

  it('posts a digested incident’s thread first when an escalation ping is due, paging ahead of routine writes', async () => {
    const s = setup();
    const opened = [];
    for (let i = 0; i < 5; i++) opened.push(await s.fire());
    const digested = opened[3]!;
    s.clock.now = new Date(T0.getTime() + 60_000);
    const escalated: IncidentEvent = { kind: 'escalated', at: s.clock.now, actor: 'switchboard', data: { level: 1, levels: 3, targets: ['<@U0ONCALL1>'] } };
    await db.transaction(async (tx) => {
      await appendTimeline(tx, digested.incidentId, [escalated]);
      await s.projector(tx, digested.incidentId, [escalated]);
    });

    const written = await s.rowsOf(digested.incidentId);
    expect(written.map((r) => [r.kind, r.priority])).toEqual([
      ['post', 0],
      ['reply', 0],
    ]);
    expect(written[1]!.payload.text).toContain('<@U0ONCALL1>');
    // From now on it is an incident like any other: its changes go to its thread.
    s.clock.now = new Date(T0.getTime() + 70_000);
    await s.intake.receive(parsed(notification([firing('f4', T0.toISOString()), firing('f4b', T0.toISOString())], { groupKey: digested.wire.groupKey })));
    const after = (await s.rowsOf(digested.incidentId)).map((r) => r.kind);
    // The edit and the reply are written by one statement: their order between them is not kept.
    expect(after.slice(0, 2)).toEqual(['post', 'reply']);
    expect(after.slice(2).sort()).toEqual(['reply', 'update']);
  });

  it('opens a thread on request, replaying what happened while it was only listed, once', async () => {
    const s = setup();
    const opened = [];
    for (let i = 0; i < 5; i++) opened.push(await s.fire());
    const digested = opened[4]!;
    await s.intake.receive(parsed(notification([firing('f5', T0.toISOString()), firing('f5b', T0.toISOString())], { groupKey: digested.wire.groupKey })));
    expect(await s.rowsOf(digested.incidentId)).toEqual([]);

    expect(await s.threads.open(digested.incidentId)).toEqual({ status: 'opened' });
    const written = await s.rowsOf(digested.incidentId);
    expect(written.map((r) => [r.kind, r.channel, r.priority])).toEqual([
      ['post', s.channel, 1],
      ['reply', null, 1],
    ]);
    expect(written[0]!.payload.text).toContain(`(#${digested.number})`);
    expect(written[1]!.payload.text).toMatch(/1 alert started firing/);

    expect(await s.threads.open(digested.incidentId)).toEqual({ status: 'already' });
    expect(await s.rowsOf(digested.incidentId)).toHaveLength(2);
    expect(await s.threads.open(opened[0]!.incidentId)).toEqual({ status: 'unknown' });
  });

  it('counts afresh after a storm ends, even within the same window', async () => {
    const s = setup('{ threshold: 2, window: 10m, quietAfter: 1m }');
    for (let i = 0; i < 4; i++) await s.fire();
    s.clock.now = new Date(T0.getTime() + 2 * 60_000);
    const after = [await s.fire(), await s.fire()];
    for (const o of after) expect((await s.rowsOf(o.incidentId)).map((r) => r.kind)).toEqual(['post']);
    const third = await s.fire();
    expect(await s.rowsOf(third.incidentId)).toEqual([]);
    const digests = (await s.digestRows()).filter((r) => r.kind === 'post').map((r) => r.message_key);
    expect(digests).toEqual([`digest:${s.channel}:${T0.getTime()}`, `digest:${s.channel}:${s.clock.now.getTime()}`]);
  });

  it('keeps the storm going while incidents arrive, and gives threads again once it is quiet', async () => {
    const s = setup('{ threshold: 2, window: 1m, quietAfter: 5m }');
    for (let i = 0; i < 3; i++) await s.fire();
    // Past the window but within quietAfter of the last incident: still the same storm.
    s.clock.now = new Date(T0.getTime() + 4 * 60_000);
    const late = await s.fire();
    expect(await s.rowsOf(late.incidentId)).toEqual([]);
    expect((await s.digestRows()).filter((r) => r.kind === 'post')).toHaveLength(1);

    s.clock.now = new Date(T0.getTime() + 9 * 60_000 + 1_000);
    const quiet = await s.fire();
    expect((await s.rowsOf(quiet.incidentId)).map((r) => r.kind)).toEqual(['post']);
  });
});

describe('storms across instances (PostgreSQL)', () => {
  it('decides from the store when several instances take notifications at once', async () => {
    const channel = `C0${randomBytes(4).toString('hex').toUpperCase()}`;
    const catalog = parseCatalog(`version: 1\nservices:\n  api-gateway: { name: Gateway }\ndefaultRoute: { channel: ${channel} }\nstorm: { threshold: 4, window: 1m, quietAfter: 5m }\n`, 's.yml', {});
    const instances = [createPostgresDb(temp.url, { max: 5 }), createPostgresDb(temp.url, { max: 5 })];
    try {
      await migrate(instances[0]!);
      const intakes = instances.map((db) => {
        const outbox = createOutbox();
        const now = () => T0;
        return createIntake({ db, now, onIncidentChanged: createIncidentProjector({ catalog, registry, outbox, now, storms: createStormRouter({ config: catalog.storm, outbox }) }) });
      });
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => intakes[i % 2]!.receive(parsed(notification([firing(`c${i}`, T0.toISOString())], { groupKey: `{}:{channel="${channel}", n="c${i}"}` })))),
      );
      expect(new Set(results.map((r) => r.incidentId)).size).toBe(30);
      const { rows: posted } = await instances[0]!.query<{ message_key: string }>(`SELECT message_key FROM outbox WHERE kind = 'post' AND channel = $1`, [channel]);
      expect(posted.filter((r) => r.message_key.startsWith('incident:'))).toHaveLength(4);
      expect(posted.filter((r) => r.message_key.startsWith('digest:'))).toHaveLength(1);
      const { rows: listed } = await instances[0]!.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM storm_incidents s JOIN incidents i ON i.id = s.incident_id WHERE i.channel = $1',
        [channel],
      );
      expect(listed[0]!.n).toBe(26);
    } finally {
      await Promise.all(instances.map((db) => db.close()));
    }
  });
});

describe('storm configuration', () => {
  it('defaults to more than 20 new incidents in a minute, quiet after 5 minutes', () => {
    const plain = parseCatalog('version: 1\nservices:\n  api-gateway: { name: Gateway }\n', 'plain.yml', {});
    expect(plain.storm).toEqual({ threshold: 20, window: 60_000, quietAfter: 300_000 });
    const tuned = parseCatalog('version: 1\nservices:\n  api-gateway: { name: Gateway }\nstorm: { threshold: 50, quietAfter: 10m }\n', 'tuned.yml', {});
    expect(tuned.storm).toEqual({ threshold: 50, window: 60_000, quietAfter: 600_000 });
    expect(() => parseCatalog('version: 1\nservices:\n  api-gateway: { name: Gateway }\nstorm: { threshold: 0, window: 100ms }\n', 'bad.yml', {})).toThrow(
      /storm\.threshold[\s\S]*storm\.window: must be at least 1s/,
    );
  });
});
