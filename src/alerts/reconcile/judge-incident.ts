import type { HeldAlert } from './alertmanager-view.js';

/** An open incident as reconciliation reads it before asking Alertmanager. */
export interface OpenIncident {
  id: string;
  number: number;
  receiver: string;
  groupKey: string;
  /** Alertmanager left alerts out of its notifications: those not listed here may still fire. */
  truncatedAlerts: number;
  silence?: { id: string; endsAt: Date; by: string };
  /** Its alerts still firing in the store, with when each was first found missing from Alertmanager. */
  firing: ReadonlyArray<{ fingerprint: string; startsAt: Date; missingSince?: Date }>;
}

/** What each configured Alertmanager answered: its alerts by fingerprint, or undefined when it did not answer. */
export type Answers = ReadonlyArray<{ url: string; alerts: ReadonlyMap<string, HeldAlert> | undefined }>;

export interface Judgement {
  /** Missing from every reachable Alertmanager for `goneAfter` (or longer): to resolve. */
  gone: string[];
  /** Missing at this check for the first time: to remember since when. */
  missingNow: string[];
  /** Remembered as missing, and held by an Alertmanager again. */
  seenAgain: string[];
  /**
   * `silenced`: every firing alert still held is silenced; `silenceIds` per alert. `active`: at
   * least one is not. `unknown`: nothing reachable, or nothing held, to tell.
   */
  silence: { kind: 'silenced'; silenceIds: ReadonlyArray<readonly string[]> } | { kind: 'active' } | { kind: 'unknown' };
}

/**
 * Compares an open incident with what the Alertmanagers hold. Pure. With several (an HA pair),
 * an alert is held when any reachable one holds it, and silenced when any reachable one that
 * holds it says so; with none reachable nothing is judged gone.
 */
export function judgeIncident(incident: OpenIncident, answers: Answers, checkedAt: Date, goneAfterMs: number): Judgement {
  const reachable = answers.flatMap((a) => (a.alerts ? [a.alerts] : []));
  const judgement: Judgement = { gone: [], missingNow: [], seenAgain: [], silence: { kind: 'unknown' } };
  if (reachable.length === 0) return judgement;
  const silenceIds: string[][] = [];
  let anyActive = false;
  for (const alert of incident.firing) {
    const held = reachable.flatMap((alerts) => alerts.get(alert.fingerprint) ?? []);
    if (held.length === 0) {
      // Alerts Alertmanager left out of the notification may still fire in this group.
      if (incident.truncatedAlerts > 0) continue;
      const since = alert.missingSince ?? checkedAt;
      if (!alert.missingSince) judgement.missingNow.push(alert.fingerprint);
      if (checkedAt.getTime() - since.getTime() >= goneAfterMs) judgement.gone.push(alert.fingerprint);
      continue;
    }
    if (alert.missingSince) judgement.seenAgain.push(alert.fingerprint);
    const silencedBy = [...new Set(held.flatMap((h) => (h.state === 'suppressed' ? h.silencedBy : [])))];
    if (silencedBy.length === 0) anyActive = true;
    else silenceIds.push(silencedBy);
  }
  if (anyActive) judgement.silence = { kind: 'active' };
  else if (silenceIds.length > 0) judgement.silence = { kind: 'silenced', silenceIds };
  return judgement;
}
