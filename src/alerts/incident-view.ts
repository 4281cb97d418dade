import type { IncidentState } from './apply-notification.js';

/**
 * What the renderers need to know about an incident: a plain, read-only snapshot built from
 * its state (`viewOfState`). Renderers are pure functions of this view and the current time.
 */
export type IncidentStatus = 'firing' | 'resolved';

export interface AlertView {
  fingerprint: string;
  status: IncidentStatus;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** Undefined: unknown (Alertmanager sent Go's zero time); say so rather than show a date. */
  startsAt?: Date;
  endsAt?: Date;
  generatorURL?: string;
}

/** A runbook button the route gives this incident: an action id and the catalog ids it acts on. */
export interface RunbookButton {
  actionId: string;
  label: string;
  /** Catalog ids only (service, breaker, backup target); never free text. */
  input: Readonly<Record<string, string>>;
  /** Destructive actions get a Slack confirm dialog. */
  confirm?: { title: string; text: string };
}

export interface IncidentView {
  id: string;
  /** Short number people type: `/ops ack 42`. */
  number: number;
  status: IncidentStatus;
  severity: string;
  /** The alertname, or the group's name when several alertnames share a group. */
  title: string;
  service?: string;
  receiver: string;
  groupKey: string;
  groupLabels: Readonly<Record<string, string>>;
  commonLabels: Readonly<Record<string, string>>;
  commonAnnotations: Readonly<Record<string, string>>;
  alerts: readonly AlertView[];
  counts: { firing: number; resolved: number };
  /** Alerts Alertmanager left out of the notification (`truncatedAlerts`). */
  truncatedAlerts: number;
  /** The earliest known start of its alerts; undefined when none is known. */
  startedAt?: Date;
  resolvedAt?: Date;
  /** Resolved by a person in Switchboard while Alertmanager may still fire. */
  resolvedBy?: { userId: string; at: Date };
  acknowledged?: { userId: string; at: Date };
  escalation?: { level: number; levels: number; nextAt?: Date };
  silence?: { id: string; endsAt: Date; createdBy: string };
  links: { alertmanager?: string; runbook?: string; generator?: string };
  buttons: readonly RunbookButton[];
}

// Firing first, then oldest first (unknown starts last): the renderer shows the head of this list.
function compareAlerts(a: AlertView, b: AlertView): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  const start = (v: AlertView) => v.startsAt?.getTime() ?? Number.POSITIVE_INFINITY;
  return start(a) - start(b) || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0);
}

/** The view of an incident's state; escalation and buttons are added by who knows them. */
export function viewOfState(id: string, number: number, s: IncidentState): IncidentView {
  const alerts: AlertView[] = [...s.alerts.values()]
    .map((a) => ({
      fingerprint: a.fingerprint,
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      ...(a.startsAt ? { startsAt: a.startsAt } : {}),
      ...(a.endsAt ? { endsAt: a.endsAt } : {}),
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    }))
    .sort(compareAlerts);
  const firing = alerts.filter((a) => a.status === 'firing').length;
  const runbook = s.commonAnnotations.runbook_url ?? alerts.find((a) => a.annotations.runbook_url)?.annotations.runbook_url;
  const generator = alerts.find((a) => a.generatorURL)?.generatorURL;
  return {
    id,
    number,
    status: s.status,
    severity: s.severity,
    title: s.title,
    ...(s.service ? { service: s.service } : {}),
    receiver: s.receiver,
    groupKey: s.groupKey,
    groupLabels: s.groupLabels,
    commonLabels: s.commonLabels,
    commonAnnotations: s.commonAnnotations,
    alerts,
    counts: { firing, resolved: alerts.length - firing },
    truncatedAlerts: s.truncatedAlerts,
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.resolvedAt ? { resolvedAt: s.resolvedAt } : {}),
    ...(s.resolvedBy && s.resolvedAt ? { resolvedBy: { userId: s.resolvedBy, at: s.resolvedAt } } : {}),
    ...(s.acknowledged ? { acknowledged: s.acknowledged } : {}),
    ...(s.silence ? { silence: { id: s.silence.id, endsAt: s.silence.endsAt, createdBy: s.silence.by } } : {}),
    links: {
      ...(s.externalURL ? { alertmanager: s.externalURL } : {}),
      ...(runbook ? { runbook } : {}),
      ...(generator ? { generator } : {}),
    },
    buttons: [],
  };
}
