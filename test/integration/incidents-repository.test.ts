import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIntake } from '../../src/alerts/intake.js';
import type { Db } from '../../src/store/db.js';
import { acknowledge, byNumber, incidentView, openIncidents, resolveManually, setSilence, timelineOf } from '../../src/store/incidents-repository.js';
import { firing, notification, parsed } from '../fixtures/alertmanager/notifications.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';

const T0 = '2026-03-01T10:00:00Z';
const minutes = (n: number) => new Date(new Date(T0).getTime() + n * 60_000);

describe.each(STORES)('incidents repository on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened), { max: 4 });

  async function openIncident(at: Date, labels: Record<string, string> = {}) {
    const intake = createIntake({ db, now: () => at });
    return intake.receive(parsed(notification([firing('aaaa', T0, labels)], { groupKey: `{}:{run="${randomUUID()}"}` })));
  }

  it('acknowledges once: the first acknowledgement stands', async () => {
    const { incidentId } = await openIncident(minutes(1));
    const first = await db.transaction((tx) => acknowledge(tx, incidentId, 'U1', minutes(2)));
    const second = await db.transaction((tx) => acknowledge(tx, incidentId, 'U2', minutes(3)));
    expect(first).toEqual({ found: true, events: [{ kind: 'acknowledged', at: minutes(2), actor: 'U1', data: {} }] });
    expect(second).toEqual({ found: true, events: [] });
    expect((await incidentView(db, incidentId))!.acknowledged).toEqual({ userId: 'U1', at: minutes(2) });
    expect((await timelineOf(db, incidentId)).map((e) => [e.kind, e.actor])).toEqual([['opened', 'alertmanager'], ['acknowledged', 'U1']]);
  });

  it('resolves by hand once, and a resolved incident is not acknowledged afterwards', async () => {
    const { incidentId } = await openIncident(minutes(1));
    const resolvedOnce = await db.transaction((tx) => resolveManually(tx, incidentId, 'U1', minutes(4)));
    const again = await db.transaction((tx) => resolveManually(tx, incidentId, 'U2', minutes(5)));
    const ack = await db.transaction((tx) => acknowledge(tx, incidentId, 'U2', minutes(6)));
    expect(resolvedOnce.events.map((e) => [e.kind, e.actor])).toEqual([['resolved', 'U1']]);
    expect(again).toEqual({ found: true, events: [] });
    expect(ack).toEqual({ found: true, events: [] });
    const view = (await incidentView(db, incidentId))!;
    expect(view).toMatchObject({ status: 'resolved', resolvedAt: minutes(4), resolvedBy: { userId: 'U1', at: minutes(4) } });
    expect(view.acknowledged).toBeUndefined();
    // Alertmanager still says the alert fires; that stays visible.
    expect(view.counts).toEqual({ firing: 1, resolved: 0 });
  });

  it('records a silence once per change, and its removal', async () => {
    const { incidentId } = await openIncident(minutes(1));
    const silence = { silenceId: 'sil-1', endsAt: minutes(120), by: 'U1' };
    const set = await db.transaction((tx) => setSilence(tx, incidentId, silence, minutes(2)));
    const same = await db.transaction((tx) => setSilence(tx, incidentId, silence, minutes(3)));
    const extended = await db.transaction((tx) => setSilence(tx, incidentId, { ...silence, endsAt: minutes(240) }, minutes(4)));
    expect((await incidentView(db, incidentId))!.silence).toEqual({ id: 'sil-1', endsAt: minutes(240), createdBy: 'U1' });
    const cleared = await db.transaction((tx) => setSilence(tx, incidentId, null, minutes(5)));
    const clearedAgain = await db.transaction((tx) => setSilence(tx, incidentId, null, minutes(6)));

    expect(set.events).toEqual([{ kind: 'silenced', at: minutes(2), actor: 'U1', data: { silenceId: 'sil-1', endsAt: minutes(120).toISOString() } }]);
    expect(same.events).toEqual([]);
    expect(extended.events.map((e) => e.kind)).toEqual(['silenced']);
    expect(cleared.events).toEqual([{ kind: 'unsilenced', at: minutes(5), actor: 'switchboard', data: { silenceId: 'sil-1' } }]);
    expect(clearedAgain.events).toEqual([]);
    expect((await incidentView(db, incidentId))!.silence).toBeUndefined();
  });

  it('reports unknown incidents as not found', async () => {
    const id = randomUUID();
    expect(await db.transaction((tx) => acknowledge(tx, id, 'U1', minutes(1)))).toEqual({ found: false, events: [] });
    expect(await db.transaction((tx) => resolveManually(tx, id, 'U1', minutes(1)))).toEqual({ found: false, events: [] });
    expect(await db.transaction((tx) => setSilence(tx, id, null, minutes(1)))).toEqual({ found: false, events: [] });
    expect(await incidentView(db, id)).toBeUndefined();
    expect(await byNumber(db, 999_999)).toBeUndefined();
    expect(await byNumber(db, -1)).toBeUndefined();
    expect(await byNumber(db, 2 ** 40)).toBeUndefined();
  });

  it('finds incidents by number, and lists open ones newest first', async () => {
    const older = await openIncident(minutes(10));
    const newer = await openIncident(minutes(20), { severity: 'critical' });
    const closed = await openIncident(minutes(30));
    await db.transaction((tx) => resolveManually(tx, closed.incidentId, 'U1', minutes(31)));

    expect((await byNumber(db, newer.number))!).toMatchObject({ id: newer.incidentId, number: newer.number, severity: 'critical' });
    const list = await openIncidents(db, { limit: 100 });
    const ours = list.map((v) => v.id).filter((id) => [older.incidentId, newer.incidentId, closed.incidentId].includes(id));
    expect(ours).toEqual([newer.incidentId, older.incidentId]);
    expect(list.every((v) => v.status === 'firing' && v.alerts.length === 1)).toBe(true);
    expect(await openIncidents(db, { limit: 1 })).toHaveLength(1);
  });

  it('allows one open incident per alert group', async () => {
    const { incidentId } = await openIncident(minutes(1));
    const row = (await db.query<{ receiver: string; group_key: string }>('SELECT receiver, group_key FROM incidents WHERE id = $1', [incidentId])).rows[0]!;
    await expect(
      db.query(
        `INSERT INTO incidents (id, receiver, group_key, status, severity, title, started_at, opened_at, updated_at)
         VALUES ($1, $2, $3, 'firing', 'none', 'x', now(), now(), now())`,
        [randomUUID(), row.receiver, row.group_key],
      ),
    ).rejects.toThrow(/incidents_one_open_per_group/);
  });
});
