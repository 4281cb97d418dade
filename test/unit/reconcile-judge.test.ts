import { describe, expect, it } from 'vitest';
import type { HeldAlert } from '../../src/alerts/reconcile/alertmanager-view.js';
import { judgeIncident, type OpenIncident } from '../../src/alerts/reconcile/judge-incident.js';

const at = (minute: number) => new Date(Date.UTC(2026, 2, 3, 10, minute));
const incident = (firing: OpenIncident['firing'], truncatedAlerts = 0): OpenIncident => ({ id: 'i', number: 1, receiver: 'r', groupKey: 'g', truncatedAlerts, firing });
const held = (...alerts: Array<Partial<HeldAlert> & { fingerprint: string }>) => new Map(alerts.map((a) => [a.fingerprint, { state: 'active', silencedBy: [], ...a }]));

describe('judgeIncident', () => {
  const two = incident([
    { fingerprint: 'a', startsAt: at(0) },
    { fingerprint: 'b', startsAt: at(0) },
  ]);

  it('counts an alert gone only when no reachable Alertmanager holds it', () => {
    const answers = [
      { url: 'am1', alerts: held({ fingerprint: 'a' }) },
      { url: 'am2', alerts: held() },
    ];
    expect(judgeIncident(two, answers, at(5), 0)).toMatchObject({ gone: ['b'], missingNow: ['b'], silence: { kind: 'active' } });
    // An unreachable member says nothing either way.
    expect(judgeIncident(two, [{ url: 'am1', alerts: undefined }, { url: 'am2', alerts: held({ fingerprint: 'a' }) }], at(5), 0).gone).toEqual(['b']);
  });

  it('resolves nothing when no Alertmanager answers', () => {
    expect(judgeIncident(two, [{ url: 'am1', alerts: undefined }], at(5), 0)).toEqual({ gone: [], missingNow: [], seenAgain: [], silence: { kind: 'unknown' } });
  });

  it('waits goneAfter from the first check that missed an alert, and forgets it when it is back', () => {
    const answers = [{ url: 'am1', alerts: held({ fingerprint: 'a' }) }];
    expect(judgeIncident(two, answers, at(5), 2 * 60_000)).toMatchObject({ gone: [], missingNow: ['b'] });
    const missing = incident([
      { fingerprint: 'a', startsAt: at(0) },
      { fingerprint: 'b', startsAt: at(0), missingSince: at(5) },
    ]);
    expect(judgeIncident(missing, answers, at(6), 2 * 60_000)).toMatchObject({ gone: [], missingNow: [] });
    expect(judgeIncident(missing, answers, at(7), 2 * 60_000)).toMatchObject({ gone: ['b'] });
    expect(judgeIncident(missing, [{ url: 'am1', alerts: held({ fingerprint: 'a' }, { fingerprint: 'b' }) }], at(7), 2 * 60_000)).toMatchObject({ gone: [], seenAgain: ['b'] });
  });

  it('is silenced only while every firing alert it still has is silenced', () => {
    const silenced = (fingerprint: string, ...ids: string[]) => ({ fingerprint, state: 'suppressed', silencedBy: ids });
    expect(judgeIncident(two, [{ url: 'am1', alerts: held(silenced('a', 's1'), silenced('b', 's1', 's2')) }], at(5), 0).silence).toEqual({ kind: 'silenced', silenceIds: [['s1'], ['s1', 's2']] });
    expect(judgeIncident(two, [{ url: 'am1', alerts: held(silenced('a', 's1'), { fingerprint: 'b' }) }], at(5), 0).silence).toEqual({ kind: 'active' });
    // Inhibited is not silenced: the inhibiting alert pages, this one is still unanswered.
    expect(judgeIncident(two, [{ url: 'am1', alerts: held({ fingerprint: 'a', state: 'suppressed' }, silenced('b', 's1')) }], at(5), 0).silence).toEqual({ kind: 'active' });
  });

  it('never takes an alert of a truncated group for gone: the notification did not list them all', () => {
    const truncated = incident([{ fingerprint: 'a', startsAt: at(0) }], 5);
    expect(judgeIncident(truncated, [{ url: 'am1', alerts: held() }], at(5), 0).gone).toEqual([]);
  });
});
