import type { Queryable } from '../store/db.js';
import type { OutboxPayload } from '../store/outbox-repository.js';
import { escapeAlertText } from './mrkdwn.js';

/** What the minimal form of an incident's parent message shows. */
export interface MinimalIncident {
  number: number;
  alertname: string;
  severity: string;
  service: string | null;
  status: 'firing' | 'resolved';
}

/**
 * An incident's parent message as plain text, for when Slack refuses the full render (its blocks,
 * its length): no blocks, a few hundred characters, alert text escaped. The buttons are gone, so it
 * says how to act without them.
 */
export function renderMinimalIncident(incident: MinimalIncident): OutboxPayload {
  const state = incident.status === 'resolved' ? '✅ Resolved' : '🚨 Firing';
  const service = incident.service ? ` · service ${escapeAlertText(incident.service, 100)}` : '';
  const text =
    `${state}: incident #${incident.number} · ${escapeAlertText(incident.alertname, 200)} · severity ${escapeAlertText(incident.severity, 40)}${service}\n` +
    `(Shown in short form: Slack refused the full message.) Acknowledge with \`/ops ack ${incident.number}\`; details follow in this thread.`;
  return { text };
}

const INCIDENT_PREFIX = 'incident:';

/** The outbox's minimal renderer for `incident:<id>` keys, read from the store at send time. */
export function createMinimalIncidentRenderer(db: Queryable): (messageKey: string) => Promise<OutboxPayload | undefined> {
  return async (messageKey) => {
    if (!messageKey.startsWith(INCIDENT_PREFIX)) return undefined;
    const { rows } = await db.query<{ number: number; alertname: string | null; title: string; severity: string; service: string | null; status: 'firing' | 'resolved' }>(
      `SELECT number, coalesce(group_labels ->> 'alertname', common_labels ->> 'alertname') AS alertname, title, severity, service, status
         FROM incidents WHERE id::text = $1`,
      [messageKey.slice(INCIDENT_PREFIX.length)],
    );
    const row = rows[0];
    return row ? renderMinimalIncident({ number: row.number, alertname: row.alertname ?? row.title, severity: row.severity, service: row.service, status: row.status }) : undefined;
  };
}

export const MINIMAL_INCIDENT_PREFIX = INCIDENT_PREFIX;
