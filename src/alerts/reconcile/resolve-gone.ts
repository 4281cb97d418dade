import { applyNotification, type IncidentEvent } from '../apply-notification.js';
import type { IncidentChanged } from '../incident-desk.js';
import type { Queryable } from '../../store/db.js';
import { appendTimeline, latestIncidentForUpdate, lockGroup, updateIncident, upsertAlerts } from '../../store/incidents-repository.js';
import type { OpenIncident } from './judge-incident.js';

/**
 * Resolves alerts no reachable Alertmanager holds any more, as their resolution would have:
 * under the group lock the intake takes, through `applyNotification` and the same incident-change
 * hook (escalation stops, the parent is re-rendered, the thread says so). Only alerts still in the
 * episode that was checked are resolved, so an alert that fired anew meanwhile is left alone.
 * Returns the number of alerts resolved.
 */
export async function resolveGone(
  tx: Queryable,
  incident: OpenIncident,
  gone: readonly string[],
  checked: { at: Date; alertmanagers: readonly string[] },
  now: Date,
  onIncidentChanged: IncidentChanged,
): Promise<number> {
  await lockGroup(tx, incident.receiver, incident.groupKey);
  const current = await latestIncidentForUpdate(tx, incident.receiver, incident.groupKey);
  if (!current || current.id !== incident.id || current.state.status !== 'firing') return 0;
  const checkedStarts = new Map(incident.firing.map((a) => [a.fingerprint, a.startsAt?.getTime()]));
  const alerts = gone.flatMap((fingerprint) => {
    const alert = current.state.alerts.get(fingerprint);
    return alert && alert.status === 'firing' && alert.startsAt?.getTime() === checkedStarts.get(fingerprint) ? [alert] : [];
  });
  if (alerts.length === 0) return 0;
  const s = current.state;
  const applied = applyNotification(
    s,
    {
      version: '4',
      groupKey: s.groupKey,
      receiver: s.receiver,
      status: 'resolved',
      truncatedAlerts: s.truncatedAlerts,
      groupLabels: { ...s.groupLabels },
      commonLabels: { ...s.commonLabels },
      commonAnnotations: { ...s.commonAnnotations },
      externalURL: s.externalURL,
      alerts: alerts.map((a) => ({
        status: 'resolved' as const,
        labels: { ...a.labels },
        annotations: { ...a.annotations },
        startsAt: a.startsAt,
        endsAt: checked.at,
        fingerprint: a.fingerprint,
        generatorURL: a.generatorURL || undefined,
      })),
    },
    now,
  );
  // The thread says how this was learnt: when it was checked, and which Alertmanagers answered.
  const events: IncidentEvent[] = applied.events.map((event) =>
    event.kind === 'alerts_resolved' ? { ...event, data: { ...event.data, checked: { at: checked.at.toISOString(), alertmanagers: [...checked.alertmanagers] } } } : event,
  );
  await updateIncident(tx, current.id, applied.next);
  await upsertAlerts(tx, current.id, applied.changedAlerts);
  await appendTimeline(tx, current.id, events);
  if (events.length > 0) await onIncidentChanged(tx, current.id, events);
  return alerts.length;
}
