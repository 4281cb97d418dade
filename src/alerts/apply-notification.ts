import type { IncidentStatus } from './incident-view.js';
import { labelValue, type AlertmanagerAlert, type AlertmanagerNotification } from './webhook-schema.js';

/** One Alertmanager webhook notification, as `parseNotification` returns it. */
export type Notification = AlertmanagerNotification;
export type NotificationAlert = AlertmanagerAlert;

export type Severity = 'critical' | 'error' | 'warning' | 'info' | 'none';
const SEVERITY_RANK: Record<Severity, number> = { none: 0, info: 1, warning: 2, error: 3, critical: 4 };

/** Flapping within this long after a resolution continues the same incident (and thread). */
export const DEFAULT_REOPEN_WINDOW_MS = 30 * 60_000;

/** The actor of changes that came from Alertmanager; people are their Slack user ids. */
export const ALERTMANAGER_ACTOR = 'alertmanager';

export interface AlertState {
  fingerprint: string;
  status: IncidentStatus;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** Undefined: unknown (Alertmanager sent Go's zero time). */
  startsAt?: Date;
  /** Only for resolved alerts. */
  endsAt?: Date;
  generatorURL: string;
  updatedAt: Date;
}

/** An incident as the transitions see it: everything but its database identity. */
export interface IncidentState {
  status: IncidentStatus;
  severity: Severity;
  title: string;
  service?: string;
  receiver: string;
  groupKey: string;
  groupLabels: Readonly<Record<string, string>>;
  commonLabels: Readonly<Record<string, string>>;
  commonAnnotations: Readonly<Record<string, string>>;
  externalURL: string;
  truncatedAlerts: number;
  /** The earliest known `startsAt` of its alerts; undefined while none is known. */
  startedAt?: Date;
  /** When Switchboard opened it. */
  openedAt: Date;
  updatedAt: Date;
  resolvedAt?: Date;
  /** The Slack user who resolved it by hand; absent when Alertmanager resolved it. */
  resolvedBy?: string;
  acknowledged?: { userId: string; at: Date };
  silence?: { id: string; endsAt: Date; by: string };
  alerts: ReadonlyMap<string, AlertState>;
}

interface EventBase {
  at: Date;
  /** `alertmanager`, or the Slack user id of the person who acted. */
  actor: string;
}

/** One timeline entry: what changed, when, and who did it. Data holds ids and ISO times only. */
export type IncidentEvent = EventBase &
  (
    | { kind: 'opened'; data: { firing: string[]; resolved: string[] } }
    | { kind: 'alerts_firing'; data: { fingerprints: string[] } }
    /** `checked`: resolved because no reachable Alertmanager had them any more when Switchboard asked (reconciliation). */
    | { kind: 'alerts_resolved'; data: { fingerprints: string[]; checked?: { at: string; alertmanagers: string[] } } }
    | { kind: 'resolved'; data: Record<string, never> }
    | { kind: 'reopened'; data: { resolvedAt: string } }
    | { kind: 'acknowledged'; data: Record<string, never> }
    | { kind: 'silenced'; data: { silenceId: string; endsAt: string } }
    | { kind: 'unsilenced'; data: { silenceId: string } }
    /** A runbook action ran from the incident's message or by an automation. */
    | { kind: 'run_finished'; data: { actionTitle: string; target?: string; status: 'succeeded' | 'failed' | 'timed_out' | 'refused'; summary: string; ref: string } }
    /** `due`: every level paged together when several were due at once (the page came late). */
    | { kind: 'escalated'; data: { level: number; levels: number; targets: string[]; due?: Array<{ level: number; targets: string[] }> } }
  );

export type IncidentEventKind = IncidentEvent['kind'];

export interface Applied {
  next: IncidentState;
  /** Empty when the notification taught nothing new (a duplicate, or older than what is stored). */
  events: IncidentEvent[];
  /** `next` is a new incident rather than the next state of `current`. */
  isNew: boolean;
  /** Alerts added or changed, for the store to write. */
  changedAlerts: AlertState[];
}

export interface ApplyOptions {
  reopenWindowMs?: number;
}

/**
 * The next state of an alert group's latest incident after one notification. Pure.
 *
 * Alertmanager delivers at least once (retries, both members of an HA pair) and in any order,
 * so each alert only moves forward: an incoming alert counts only if it is a new fingerprint,
 * the resolution of the stored episode, or a new episode (its `startsAt` is after the stored
 * one's `endsAt`, or after the stored `startsAt` of a firing one). Anything else is stale and
 * ignored; a notification with nothing new changes nothing and yields no events.
 *
 * Reopen policy: when alerts fire again in a group whose latest incident is resolved, the same
 * incident reopens if it resolved at most `reopenWindowMs` (default 30 min) before `now`, so a
 * flapping alert keeps one thread; later, a new incident opens. Alerts that only resolve never
 * open or reopen anything: they are recorded on the latest incident.
 */
export function applyNotification(current: IncidentState | undefined, n: Notification, now: Date, options: ApplyOptions = {}): Applied {
  const reopenWindowMs = options.reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS;
  if (!current) return open(n, now);

  const merged = mergeAlerts(current.alerts, n.alerts, now);
  if (merged.changed.length === 0) return { next: current, events: [], isNew: false, changedAlerts: [] };

  const firesAgain = current.status === 'resolved' && merged.firing.length > 0;
  if (firesAgain && !withinWindow(current, now, reopenWindowMs)) return open(n, now);

  const anyFiring = [...merged.alerts.values()].some((a) => a.status === 'firing');
  const status: IncidentStatus = firesAgain ? 'firing' : current.status === 'firing' && !anyFiring ? 'resolved' : current.status;
  const events: IncidentEvent[] = [];
  const event = (e: Omit<IncidentEvent, 'at' | 'actor'>) => events.push({ ...e, at: now, actor: ALERTMANAGER_ACTOR } as IncidentEvent);
  if (firesAgain) event({ kind: 'reopened', data: { resolvedAt: (current.resolvedAt ?? now).toISOString() } });
  if (merged.firing.length) event({ kind: 'alerts_firing', data: { fingerprints: merged.firing } });
  if (merged.resolved.length) event({ kind: 'alerts_resolved', data: { fingerprints: merged.resolved } });
  if (current.status === 'firing' && status === 'resolved') event({ kind: 'resolved', data: {} });

  const next: IncidentState = {
    ...current,
    ...groupFields(n, merged.alerts),
    status,
    severity: severityOf(merged.alerts, current.severity),
    ...startedAtOf(earliest(current.startedAt, merged.changed)),
    updatedAt: now,
    alerts: merged.alerts,
  };
  if (status === 'firing') {
    delete next.resolvedAt;
    delete next.resolvedBy;
  } else if (current.status === 'firing') {
    next.resolvedAt = now;
  }
  return { next, events, isNew: false, changedAlerts: merged.changed };
}

function open(n: Notification, now: Date): Applied {
  const merged = mergeAlerts(new Map(), n.alerts, now);
  const all = [...merged.alerts.values()];
  const firing = all.filter((a) => a.status === 'firing').map((a) => a.fingerprint);
  const resolved = all.filter((a) => a.status === 'resolved').map((a) => a.fingerprint);
  const status: IncidentStatus = firing.length ? 'firing' : 'resolved';
  const next: IncidentState = {
    ...groupFields(n, merged.alerts),
    status,
    // A group heard of only once it has resolved still gets its severity from its alerts.
    severity: severityOf(merged.alerts, highestSeverity(all)),
    ...startedAtOf(earliest(undefined, all)),
    openedAt: now,
    updatedAt: now,
    alerts: merged.alerts,
    ...(status === 'resolved' ? { resolvedAt: now } : {}),
  };
  const events: IncidentEvent[] = [{ kind: 'opened', at: now, actor: ALERTMANAGER_ACTOR, data: { firing, resolved } }];
  if (status === 'resolved') events.push({ kind: 'resolved', at: now, actor: ALERTMANAGER_ACTOR, data: {} });
  return { next, events, isNew: true, changedAlerts: all };
}

function withinWindow(incident: IncidentState, now: Date, windowMs: number): boolean {
  const resolvedAt = incident.resolvedAt ?? incident.updatedAt;
  return now.getTime() - resolvedAt.getTime() <= windowMs;
}

interface Merged {
  alerts: Map<string, AlertState>;
  changed: AlertState[];
  /** Fingerprints that started firing: new ones, and new episodes of known ones. */
  firing: string[];
  resolved: string[];
}

function mergeAlerts(stored: ReadonlyMap<string, AlertState>, incoming: readonly NotificationAlert[], now: Date): Merged {
  const alerts = new Map(stored);
  const changed = new Map<string, AlertState>();
  for (const raw of incoming) {
    const candidate = toAlertState(raw, now);
    const known = alerts.get(candidate.fingerprint);
    if (known && !isNewer(candidate, known)) continue;
    alerts.set(candidate.fingerprint, candidate);
    changed.set(candidate.fingerprint, candidate);
  }
  const firing: string[] = [];
  const resolved: string[] = [];
  for (const alert of changed.values()) {
    const before = stored.get(alert.fingerprint);
    if (alert.status === 'resolved') resolved.push(alert.fingerprint);
    else if (!before || before.status === 'resolved' || startedLater(alert, before)) firing.push(alert.fingerprint);
  }
  return { alerts, changed: [...changed.values()], firing, resolved };
}

/** Both start times are known and `a`'s is the later: a new episode of the alert. */
function startedLater(a: AlertState, b: AlertState): boolean {
  return a.startsAt !== undefined && b.startsAt !== undefined && a.startsAt > b.startsAt;
}

/**
 * Whether `incoming` says something later than `known` about the same fingerprint. An unknown
 * `startsAt` (Go's zero time) orders nothing: such an alert is never "older" than the stored one,
 * and it fires again after a resolution only when it arrived after that resolution was recorded
 * (arrival order is all there is to go by).
 */
function isNewer(incoming: AlertState, known: AlertState): boolean {
  if (known.status === 'resolved') {
    // Only a new episode: the stored one has ended, and a firing alert from before its end is late.
    if (incoming.startsAt === undefined) return incoming.status === 'firing' && incoming.updatedAt > known.updatedAt;
    const endedAt = known.endsAt ?? known.startsAt;
    return endedAt === undefined || incoming.startsAt > endedAt;
  }
  if (startedLater(known, incoming)) return false;
  if (incoming.status === 'resolved') return true;
  // Still firing: the same episode again, unless it restarted (its resolution never reached us).
  return startedLater(incoming, known);
}

function toAlertState(a: NotificationAlert, now: Date): AlertState {
  const state: AlertState = {
    fingerprint: a.fingerprint,
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    ...(a.startsAt ? { startsAt: a.startsAt } : {}),
    generatorURL: a.generatorURL ?? '',
    updatedAt: now,
  };
  // Alertmanager sends the zero time as endsAt of firing alerts; a resolved one always has it.
  if (a.status === 'resolved') state.endsAt = a.endsAt ?? now;
  return state;
}

function groupFields(n: Notification, alerts: ReadonlyMap<string, AlertState>) {
  const count = alerts.size;
  return {
    receiver: n.receiver,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL,
    truncatedAlerts: n.truncatedAlerts ?? 0,
    title: labelValue(n.commonLabels, 'alertname') || `${count} ${count === 1 ? 'alert' : 'alerts'}`,
    service: labelValue(n.commonLabels, 'service') || undefined,
  };
}

export function toSeverity(value: string | undefined): Severity {
  const lower = value?.trim().toLowerCase();
  // Own keys only: a severity label "constructor" is not a severity.
  return lower && Object.hasOwn(SEVERITY_RANK, lower) ? (lower as Severity) : 'none';
}

function highestSeverity(alerts: Iterable<AlertState>): Severity {
  let best: Severity = 'none';
  for (const alert of alerts) {
    const severity = toSeverity(labelValue(alert.labels, 'severity'));
    if (SEVERITY_RANK[severity] > SEVERITY_RANK[best]) best = severity;
  }
  return best;
}

/** The highest severity among firing alerts; a resolved incident keeps the one it had. */
function severityOf(alerts: ReadonlyMap<string, AlertState>, whenNoneFiring: Severity): Severity {
  const firing = [...alerts.values()].filter((a) => a.status === 'firing');
  return firing.length ? highestSeverity(firing) : whenNoneFiring;
}

/** The earliest known start; unknown ones (undefined) are left out. */
function earliest(start: Date | undefined, alerts: readonly AlertState[]): Date | undefined {
  let min = start;
  for (const alert of alerts) if (alert.startsAt && (!min || alert.startsAt < min)) min = alert.startsAt;
  return min;
}

const startedAtOf = (startedAt: Date | undefined) => (startedAt ? { startedAt } : {});
