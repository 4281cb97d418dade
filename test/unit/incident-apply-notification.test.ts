import { describe, expect, it } from 'vitest';
import { applyNotification, toSeverity, type IncidentState } from '../../src/alerts/apply-notification.js';
import { firing, notification, parsed, resolved, type WireAlert } from '../fixtures/alertmanager/notifications.js';

const T0 = '2026-03-01T10:00:00Z';
const at = (iso: string) => new Date(iso);
const minutes = (base: string, n: number) => new Date(at(base).getTime() + n * 60_000);

const a = firing('aaaa', T0);
const b = firing('bbbb', '2026-03-01T10:01:00Z', { severity: 'critical' });

/** Applies wire notifications in order, as the intake would, and returns the last result. */
function run(steps: Array<{ alerts: WireAlert[]; now: Date; overrides?: Parameters<typeof notification>[1] }>, start?: IncidentState, reopenWindowMs?: number) {
  let state = start;
  const all = [];
  for (const step of steps) {
    const result = applyNotification(state, parsed(notification(step.alerts, step.overrides)), step.now, reopenWindowMs === undefined ? {} : { reopenWindowMs });
    all.push(result);
    state = result.next;
  }
  return { last: all.at(-1)!, all, state: state! };
}

const kinds = (result: { events: Array<{ kind: string }> }) => result.events.map((e) => e.kind);

describe('applyNotification', () => {
  it('opens an incident from the first notification of a group', () => {
    const now = minutes(T0, 1);
    const result = applyNotification(undefined, parsed(notification([a, b])), now);
    expect(result.isNew).toBe(true);
    expect(result.events).toEqual([{ kind: 'opened', at: now, actor: 'alertmanager', data: { firing: ['aaaa', 'bbbb'], resolved: [] } }]);
    expect(result.changedAlerts.map((x) => x.fingerprint)).toEqual(['aaaa', 'bbbb']);
    expect(result.next).toMatchObject({
      status: 'firing',
      severity: 'critical',
      title: 'HighErrorRate',
      service: 'api-gateway',
      receiver: 'switchboard',
      startedAt: at(T0),
      openedAt: now,
      truncatedAlerts: 0,
      externalURL: 'http://alertmanager:9093',
    });
    expect(result.next.alerts.get('aaaa')).toMatchObject({ status: 'firing', startsAt: at(T0) });
    expect(result.next.alerts.get('aaaa')).not.toHaveProperty('endsAt');
  });

  it('changes nothing for a duplicate, however often it comes', () => {
    const { all } = run([
      { alerts: [a, b], now: minutes(T0, 1) },
      { alerts: [a, b], now: minutes(T0, 2) },
      { alerts: [b, a], now: minutes(T0, 3) },
    ]);
    expect(all.map(kinds)).toEqual([['opened'], [], []]);
    expect(all[2]!.next).toBe(all[0]!.next);
    expect(all[2]!.changedAlerts).toEqual([]);
  });

  it('ignores an older firing notification that arrives after the resolution', () => {
    const { all, state } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: minutes(T0, 6) },
      // Delayed delivery from the other member of the HA pair.
      { alerts: [a], now: minutes(T0, 7) },
    ]);
    expect(all.map(kinds)).toEqual([['opened'], ['alerts_resolved', 'resolved'], []]);
    expect(state.status).toBe('resolved');
    expect(state.alerts.get('aaaa')).toMatchObject({ status: 'resolved', endsAt: at('2026-03-01T10:05:00Z') });
  });

  it('ignores the late resolution of an earlier episode', () => {
    const again = firing('aaaa', '2026-03-01T11:00:00Z');
    const { last, state } = run([
      { alerts: [again], now: minutes(T0, 61) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: minutes(T0, 62) },
    ]);
    expect(kinds(last)).toEqual([]);
    expect(state.alerts.get('aaaa')).toMatchObject({ status: 'firing', startsAt: at('2026-03-01T11:00:00Z') });
  });

  it('adds alerts that join, and resolves when every known alert has resolved', () => {
    const { all, state } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [a, b], now: minutes(T0, 2) },
      { alerts: [resolved(a, '2026-03-01T10:03:00Z'), b], now: minutes(T0, 4) },
      // Alertmanager drops a resolved alert from the group once it has notified it.
      { alerts: [resolved(b, '2026-03-01T10:05:00Z')], now: minutes(T0, 6) },
    ]);
    expect(all.map(kinds)).toEqual([['opened'], ['alerts_firing'], ['alerts_resolved'], ['alerts_resolved', 'resolved']]);
    expect(all[1]!.events[0]!.data).toEqual({ fingerprints: ['bbbb'] });
    expect(all[2]!.next.status).toBe('firing');
    expect(all.every((r, i) => i === 0 || !r.isNew)).toBe(true);
    expect(state).toMatchObject({ status: 'resolved', resolvedAt: minutes(T0, 6), severity: 'critical' });
    expect(state.resolvedBy).toBeUndefined();
  });

  it('treats a firing alert whose startsAt is after its stored endsAt as a new episode', () => {
    const episode2 = firing('aaaa', '2026-03-01T10:10:00Z');
    const { all, state } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: minutes(T0, 6) },
      { alerts: [episode2], now: minutes(T0, 11) },
    ]);
    expect(all.map(kinds)).toEqual([['opened'], ['alerts_resolved', 'resolved'], ['reopened', 'alerts_firing']]);
    expect(all[2]!.isNew).toBe(false);
    expect(all[2]!.events[0]!.data).toEqual({ resolvedAt: minutes(T0, 6).toISOString() });
    expect(state).toMatchObject({ status: 'firing', startedAt: at(T0) });
    expect(state.resolvedAt).toBeUndefined();
    expect(state.alerts.get('aaaa')).toMatchObject({ status: 'firing', startsAt: at('2026-03-01T10:10:00Z') });
    expect(state.alerts.get('aaaa')!.endsAt).toBeUndefined();
  });

  it.each([
    { name: 'just inside the window', after: 30, reopens: true },
    { name: 'outside the window', after: 31, reopens: false },
  ])('fires again $name of the resolution → reopened: $reopens', ({ after, reopens }) => {
    const resolvedAt = minutes(T0, 6);
    const { state: closed } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: resolvedAt },
    ]);
    const now = new Date(resolvedAt.getTime() + after * 60_000);
    const refire = firing('aaaa', now.toISOString());
    const result = applyNotification(closed, parsed(notification([refire])), now);
    expect(result.isNew).toBe(!reopens);
    expect(kinds(result)).toEqual(reopens ? ['reopened', 'alerts_firing'] : ['opened']);
    expect(result.next.status).toBe('firing');
    expect(result.next.openedAt).toEqual(reopens ? minutes(T0, 1) : now);
    // The new incident starts from this notification alone.
    if (!reopens) expect([...result.next.alerts.keys()]).toEqual(['aaaa']);
  });

  it('takes the reopen window from the options', () => {
    const { state: closed } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: minutes(T0, 6) },
    ]);
    const refire = parsed(notification([firing('aaaa', '2026-03-01T10:10:00Z')]));
    expect(applyNotification(closed, refire, minutes(T0, 11), { reopenWindowMs: 60_000 }).isNew).toBe(true);
    expect(applyNotification(closed, refire, minutes(T0, 11), { reopenWindowMs: 10 * 60_000 }).isNew).toBe(false);
  });

  it('records alerts that only resolve on the latest incident, without reopening it, however late', () => {
    const c = firing('cccc', '2026-03-01T12:00:00Z');
    const { all, state } = run([
      { alerts: [a], now: minutes(T0, 1) },
      { alerts: [resolved(a, '2026-03-01T10:05:00Z')], now: minutes(T0, 6) },
      // c fired and resolved between two notifications, a day later.
      { alerts: [resolved(c, '2026-03-01T12:01:00Z')], now: minutes(T0, 24 * 60) },
    ]);
    expect(all.map(kinds)).toEqual([['opened'], ['alerts_resolved', 'resolved'], ['alerts_resolved']]);
    expect(all[2]!.isNew).toBe(false);
    expect(state.status).toBe('resolved');
    expect(state.resolvedAt).toEqual(minutes(T0, 6));
  });

  it('opens an already resolved incident when the first it hears of a group is a resolution', () => {
    const now = minutes(T0, 10);
    const result = applyNotification(undefined, parsed(notification([resolved(b, '2026-03-01T10:05:00Z')])), now);
    expect(kinds(result)).toEqual(['opened', 'resolved']);
    expect(result.events[0]!.data).toEqual({ firing: [], resolved: ['bbbb'] });
    expect(result.next).toMatchObject({ status: 'resolved', resolvedAt: now, severity: 'critical' });
  });

  it('keeps a manual resolution while the same alerts keep firing, and reopens when a new one fires', () => {
    const { state: open } = run([{ alerts: [a], now: minutes(T0, 1) }]);
    const byHand: IncidentState = { ...open, status: 'resolved', resolvedAt: minutes(T0, 2), resolvedBy: 'U123', acknowledged: { userId: 'U123', at: minutes(T0, 2) } };
    const repeat = applyNotification(byHand, parsed(notification([a])), minutes(T0, 10));
    expect(repeat.events).toEqual([]);
    expect(repeat.next).toBe(byHand);

    const joined = applyNotification(byHand, parsed(notification([a, b])), minutes(T0, 12));
    expect(kinds(joined)).toEqual(['reopened', 'alerts_firing']);
    expect(joined.next.status).toBe('firing');
    expect(joined.next.resolvedBy).toBeUndefined();
    // A flap inside the window is still the acknowledger's.
    expect(joined.next.acknowledged).toEqual({ userId: 'U123', at: minutes(T0, 2) });
  });

  it('uses a resolution without endsAt as ending now', () => {
    const { state: open } = run([{ alerts: [a], now: minutes(T0, 1) }]);
    const wire = notification([{ ...a, status: 'resolved' }]);
    const result = applyNotification(open, parsed(wire), minutes(T0, 9));
    expect(result.next.alerts.get('aaaa')!.endsAt).toEqual(minutes(T0, 9));
  });

  describe('severity and title', () => {
    it.each<{ labels: Array<Record<string, string>>; severity: string }>([
      { labels: [{ severity: 'warning' }, { severity: 'critical' }], severity: 'critical' },
      { labels: [{ severity: 'info' }, { severity: 'error' }], severity: 'error' },
      { labels: [{ severity: 'INFO' }, { severity: 'Warning' }], severity: 'warning' },
      { labels: [{ severity: 'page' }, {}], severity: 'none' },
    ])('highest of $labels is $severity', ({ labels, severity }) => {
      const alerts = labels.map((l, i) => ({ ...firing(`f${i}`, T0), labels: { alertname: 'X', ...l } }));
      expect(applyNotification(undefined, parsed(notification(alerts)), minutes(T0, 1)).next.severity).toBe(severity);
    });

    it('counts only firing alerts once some have resolved', () => {
      const { state } = run([
        { alerts: [a, b], now: minutes(T0, 1) },
        { alerts: [a, resolved(b, '2026-03-01T10:02:00Z')], now: minutes(T0, 3) },
      ]);
      expect(state.severity).toBe('warning');
    });

    it('titles a group of several alertnames "N alerts", and leaves service out when not common', () => {
      const mixed = [firing('m1', T0, { alertname: 'HighLatency', service: 'brownie-metadata' }), firing('m2', T0), firing('m3', T0, { alertname: 'Down' })];
      const next = applyNotification(undefined, parsed(notification(mixed)), minutes(T0, 1)).next;
      expect(next.title).toBe('3 alerts');
      expect(next.service).toBeUndefined();
      const one = applyNotification(undefined, parsed(notification([{ ...a, labels: { instance: 'x' } }])), minutes(T0, 1)).next;
      expect(one.title).toBe('1 alert');
    });

    it.each([
      ['critical', 'critical'],
      [' Error ', 'error'],
      ['sev1', 'none'],
      [undefined, 'none'],
    ] as const)('reads severity label %j as %s', (label, severity) => {
      expect(toSeverity(label)).toBe(severity);
    });
  });
});
