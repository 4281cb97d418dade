/**
 * What the renderers need to know about an incident: a plain, read-only snapshot built from
 * the store. Renderers are pure functions of this view and the current time.
 */
export type IncidentStatus = 'firing' | 'resolved';

export interface AlertView {
  fingerprint: string;
  status: IncidentStatus;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  startsAt: Date;
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
  startedAt: Date;
  resolvedAt?: Date;
  /** Resolved by a person in Switchboard while Alertmanager may still fire. */
  resolvedBy?: { userId: string; at: Date };
  acknowledged?: { userId: string; at: Date };
  escalation?: { level: number; levels: number; nextAt?: Date };
  silence?: { id: string; endsAt: Date; createdBy: string };
  links: { alertmanager?: string; runbook?: string; generator?: string };
  buttons: readonly RunbookButton[];
}
