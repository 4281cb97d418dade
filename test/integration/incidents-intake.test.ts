import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/alerts/apply-notification.js';
import { createIntake, type IncidentChangedHook } from '../../src/alerts/intake.js';
import type { Db } from '../../src/store/db.js';
import { incidentView, timelineOf } from '../../src/store/incidents-repository.js';
import { firing, notification, parsed, resolved, type WireAlert } from '../fixtures/alertmanager/notifications.js';
import { STORES, useMigratedStore } from '../helpers/migrated-store.js';

const T0 = '2026-03-01T10:00:00Z';
const minutes = (n: number) => new Date(new Date(T0).getTime() + n * 60_000);

describe.each(STORES)('incident intake on %s', (kind) => {
  let db: Db;
  useMigratedStore(kind, (opened) => (db = opened));

  // Each test has its own alert group, so tests sharing the database never see each other.
  const group = () => `{}:{alertname="HighErrorRate", run="${randomUUID()}"}`;
  const count = async (sql: string, params: unknown[]) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
  const incidentsOf = (groupKey: string) => count('SELECT count(*)::int AS n FROM incidents WHERE group_key = $1', [groupKey]);
  const deliveriesOf = (groupKey: string) => count('SELECT count(*)::int AS n FROM notifications WHERE group_key = $1', [groupKey]);

  function intakeAt(clock: { now: Date }, extra: { onIncidentChanged?: IncidentChangedHook; reopenWindowMs?: number } = {}) {
    return createIntake({ db, now: () => clock.now, ...extra });
  }

  it('opens one incident for the same notification delivered five times in a row', async () => {
    const groupKey = group();
    const calls: Array<readonly IncidentEvent[]> = [];
    const intake = intakeAt({ now: minutes(1) }, { onIncidentChanged: async (_tx, _id, events) => void calls.push(events) });
    const n = parsed(notification([firing('aaaa', T0), firing('bbbb', T0)], { groupKey }));
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await intake.receive(n));

    expect(results.map((r) => r.created)).toEqual([true, false, false, false, false]);
    expect(new Set(results.map((r) => r.incidentId)).size).toBe(1);
    expect(results.map((r) => r.events.length)).toEqual([1, 0, 0, 0, 0]);
    expect(calls.map((events) => events.map((e) => e.kind))).toEqual([['opened']]);
    expect(await incidentsOf(groupKey)).toBe(1);
    expect(await deliveriesOf(groupKey)).toBe(5);
    expect((await timelineOf(db, results[0]!.incidentId)).map((e) => e.kind)).toEqual(['opened']);
  });

  it('opens one incident when ten identical notifications arrive at once (HA pair, retries)', async () => {
    const groupKey = group();
    const calls: string[] = [];
    const intake = intakeAt({ now: minutes(1) }, { onIncidentChanged: async (_tx, id, events) => void calls.push(`${id}:${events.map((e) => e.kind).join(',')}`) });
    const n = parsed(notification([firing('aaaa', T0)], { groupKey }));
    const results = await Promise.all(Array.from({ length: 10 }, () => intake.receive(n)));

    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.number)).size).toBe(1);
    expect(results.flatMap((r) => r.events).map((e) => e.kind)).toEqual(['opened']);
    expect(calls).toEqual([`${results[0]!.incidentId}:opened`]);
    expect(await incidentsOf(groupKey)).toBe(1);
    expect(await deliveriesOf(groupKey)).toBe(10);
    expect(await timelineOf(db, results[0]!.incidentId)).toHaveLength(1);
  });

  it('keeps one incident while alerts join and resolve, then resolves it', async () => {
    const groupKey = group();
    const clock = { now: minutes(1) };
    const intake = intakeAt(clock);
    const a = firing('aaaa', T0);
    const b = firing('bbbb', '2026-03-01T10:02:00Z', { severity: 'critical' });
    const send = async (alerts: WireAlert[], at: Date) => {
      clock.now = at;
      return intake.receive(parsed(notification(alerts, { groupKey })));
    };

    const opened = await send([a], minutes(1));
    const joined = await send([a, b], minutes(3));
    const partly = await send([resolved(a, '2026-03-01T10:04:00Z'), b], minutes(5));
    const midway = (await incidentView(db, opened.incidentId))!;
    const done = await send([resolved(b, '2026-03-01T10:06:00Z')], minutes(7));
    const late = await send([a, b], minutes(8)); // an old delivery, retried

    expect([opened, joined, partly, done, late].map((r) => [r.created, r.number, r.events.map((e) => e.kind)])).toEqual([
      [true, opened.number, ['opened']],
      [false, opened.number, ['alerts_firing']],
      [false, opened.number, ['alerts_resolved']],
      [false, opened.number, ['alerts_resolved', 'resolved']],
      [false, opened.number, []],
    ]);
    expect(midway).toMatchObject({ status: 'firing', severity: 'critical', counts: { firing: 1, resolved: 1 } });
    expect(midway.alerts.map((x) => [x.fingerprint, x.status])).toEqual([['bbbb', 'firing'], ['aaaa', 'resolved']]);

    const view = (await incidentView(db, opened.incidentId))!;
    expect(view).toMatchObject({
      id: opened.incidentId,
      number: opened.number,
      status: 'resolved',
      severity: 'critical',
      title: 'HighErrorRate',
      service: 'api-gateway',
      receiver: 'switchboard',
      groupKey,
      counts: { firing: 0, resolved: 2 },
      truncatedAlerts: 0,
      startedAt: new Date(T0),
      resolvedAt: minutes(7),
      links: { alertmanager: 'http://alertmanager:9093', runbook: 'https://runbooks.example.org/api-gateway#errors' },
      buttons: [],
    });
    expect(view.resolvedBy).toBeUndefined();
    expect(view.alerts.find((x) => x.fingerprint === 'aaaa')).toMatchObject({ status: 'resolved', startsAt: new Date(T0), endsAt: new Date('2026-03-01T10:04:00Z') });
    expect((await timelineOf(db, opened.incidentId)).map((e) => [e.kind, e.actor, e.at.toISOString()])).toEqual([
      ['opened', 'alertmanager', minutes(1).toISOString()],
      ['alerts_firing', 'alertmanager', minutes(3).toISOString()],
      ['alerts_resolved', 'alertmanager', minutes(5).toISOString()],
      ['alerts_resolved', 'alertmanager', minutes(7).toISOString()],
      ['resolved', 'alertmanager', minutes(7).toISOString()],
    ]);
  });

  it('reopens the same incident inside the reopen window, and opens a new one after it', async () => {
    const groupKey = group();
    const clock = { now: minutes(1) };
    const intake = intakeAt(clock, { reopenWindowMs: 10 * 60_000 });
    const send = async (alerts: WireAlert[], at: Date) => {
      clock.now = at;
      return intake.receive(parsed(notification(alerts, { groupKey })));
    };
    const first = await send([firing('aaaa', T0)], minutes(1));
    await send([resolved(firing('aaaa', T0), '2026-03-01T10:04:00Z')], minutes(5));
    const reopened = await send([firing('aaaa', '2026-03-01T10:12:00Z')], minutes(13)); // 8 min after resolving
    expect(reopened).toMatchObject({ incidentId: first.incidentId, number: first.number, created: false });
    expect(reopened.events.map((e) => e.kind)).toEqual(['reopened', 'alerts_firing']);

    await send([resolved(firing('aaaa', '2026-03-01T10:12:00Z'), '2026-03-01T10:14:00Z')], minutes(15));
    const fresh = await send([firing('aaaa', '2026-03-01T10:40:00Z')], minutes(41)); // 26 min after
    expect(fresh.created).toBe(true);
    expect(fresh.incidentId).not.toBe(first.incidentId);
    expect(fresh.number).toBeGreaterThan(first.number);
    expect(fresh.events.map((e) => e.kind)).toEqual(['opened']);
    expect((await incidentView(db, first.incidentId))!.status).toBe('resolved');
    expect((await incidentView(db, fresh.incidentId))!).toMatchObject({ status: 'firing', startedAt: new Date('2026-03-01T10:40:00Z'), counts: { firing: 1, resolved: 0 } });
    expect(await incidentsOf(groupKey)).toBe(2);
  });

  it('handles a group of 500 alerts', async () => {
    const groupKey = group();
    const clock = { now: minutes(1) };
    const intake = intakeAt(clock);
    const alerts = Array.from({ length: 500 }, (_, i) => firing(`fp${String(i).padStart(4, '0')}`, T0, { instance: `host-${i}:9100` }));
    const started = performance.now();
    const opened = await intake.receive(parsed(notification(alerts, { groupKey })));
    clock.now = minutes(5);
    const half = await intake.receive(parsed(notification(alerts.map((x, i) => (i % 2 ? resolved(x, '2026-03-01T10:04:00Z') : x)), { groupKey })));
    const again = await intake.receive(parsed(notification(alerts.map((x, i) => (i % 2 ? resolved(x, '2026-03-01T10:04:00Z') : x)), { groupKey })));
    const elapsed = performance.now() - started;

    expect(opened.events[0]).toMatchObject({ kind: 'opened' });
    expect((opened.events[0]!.data as { firing: string[] }).firing).toHaveLength(500);
    expect((half.events[0]!.data as { fingerprints: string[] }).fingerprints).toHaveLength(250);
    expect(again.events).toEqual([]);
    const view = (await incidentView(db, opened.incidentId))!;
    expect(view.counts).toEqual({ firing: 250, resolved: 250 });
    expect(view.alerts).toHaveLength(500);
    // Alertmanager waits 10 s at most; this leaves a wide margin on a slow machine.
    expect(elapsed).toBeLessThan(5_000);
  });

  it('calls onIncidentChanged inside the transaction, and a throw from it rolls everything back', async () => {
    const groupKey = group();
    const seen: number[] = [];
    const intake = intakeAt(
      { now: minutes(1) },
      {
        onIncidentChanged: async (tx, id) => {
          seen.push((await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline WHERE incident_id = $1', [id])).rows[0]!.n);
          await tx.query(`INSERT INTO notifications (received_at, receiver, group_key, body_sha256, payload) VALUES (now(), 'hook', $1, $2, '{}')`, [groupKey, 'f'.repeat(64)]);
          throw new Error('outbox unavailable');
        },
      },
    );
    const n = parsed(notification([firing('aaaa', T0)], { groupKey }));
    await expect(intake.receive(n)).rejects.toThrow('outbox unavailable');
    expect(seen).toEqual([1]);
    expect(await incidentsOf(groupKey)).toBe(0);
    expect(await deliveriesOf(groupKey)).toBe(0);

    // Once the hook works, the retried delivery opens the incident as if nothing had happened.
    const ok = await intakeAt({ now: minutes(2) }).receive(n);
    expect(ok).toMatchObject({ created: true, events: [{ kind: 'opened' }] });
  });

  it('stores text PostgreSQL would refuse (U+0000) instead of failing forever', async () => {
    const groupKey = group();
    const alert = firing('aaaa', T0);
    alert.annotations.description = 'bad\u0000byte';
    const result = await intakeAt({ now: minutes(1) }).receive(parsed(notification([alert], { groupKey })), { json: { note: 'x\u0000y' }, sha256: 'a'.repeat(64) });
    expect((await incidentView(db, result.incidentId))!.alerts[0]!.annotations.description).toBe('bad\uFFFDbyte');
  });
});
