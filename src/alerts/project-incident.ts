import type { KnownBlock } from '@slack/types';
import type { Catalog } from '../config/catalog-schema.js';
import type { Registry } from '../commands/registry.js';
import type { Queryable } from '../store/db.js';
import { incidentViewsWithChannel, incidentViewWithChannel, setRoute, timelineOf } from '../store/incidents-repository.js';
import type { IncidentEvent } from './apply-notification.js';
import type { IncidentChanged, IncidentsChanged } from './incident-desk.js';
import type { IncidentView, RunbookButton } from './incident-view.js';
import { routeFor, type MatchedRoute } from './match-route.js';
import type { OutboxWriter } from './outbox-port.js';
import { renderIncident } from './render-incident.js';
import { mergeResolution, renderTimelineEvent, type TimelineEvent } from './render-timeline.js';
import type { StormRouter } from './storm.js';
import type { DigestPlacement } from './storm-store.js';

/** The Slack name of an incident's parent message and thread in the outbox. */
export const incidentMessageKey = (incidentId: string) => `incident:${incidentId}`;

/** How a stored event reads in the thread; `opened` is the parent message itself. */
export function toTimelineEvent(event: IncidentEvent): TimelineEvent | undefined {
  switch (event.kind) {
    case 'opened':
      return undefined;
    case 'alerts_firing':
      return { kind: 'alerts_firing', fingerprints: event.data.fingerprints };
    case 'alerts_resolved':
      return {
        kind: 'alerts_resolved',
        fingerprints: event.data.fingerprints,
        ...(event.data.checked ? { checked: { at: new Date(event.data.checked.at), alertmanagers: event.data.checked.alertmanagers } } : {}),
      };
    case 'resolved':
      return { kind: 'incident_resolved', by: event.actor };
    case 'reopened':
      return { kind: 'reopened' };
    case 'acknowledged':
      return { kind: 'acknowledged', by: event.actor };
    case 'silenced':
      return { kind: 'silenced', silenceId: event.data.silenceId, endsAt: new Date(event.data.endsAt), by: event.actor };
    case 'unsilenced':
      return { kind: 'unsilenced', silenceId: event.data.silenceId, by: event.actor };
    case 'run_finished':
      return { kind: 'run_finished', actionTitle: event.data.actionTitle, by: event.actor, status: event.data.status, summary: event.data.summary, ref: event.data.ref, ...(event.data.target ? { target: event.data.target } : {}) };
    case 'escalated':
      return { kind: 'escalated', level: event.data.level, levels: event.data.levels, targets: event.data.targets, ...(event.data.due ? { due: event.data.due } : {}) };
  }
}

/**
 * The runbook buttons a route gives an incident: actions that take a service, for the route's
 * service. An action that picks among a service's named things (`choices`: its backups, its
 * circuit breakers) gets one button per thing when the service has several, or only the one
 * the alert names in a label of the choice's key.
 */
export function runbookButtons(route: MatchedRoute, view: IncidentView, registry: Registry, services: Catalog['services']): RunbookButton[] {
  const service = route.service ?? view.service;
  if (!service) return [];
  const alertname = view.commonLabels.alertname ?? '*';
  return route.buttons(alertname).flatMap((actionId) => {
    const action = registry.get(actionId);
    if (!action) return [];
    const config = Object.hasOwn(services, service) ? services[service] : undefined;
    const choices = action.choices;
    const named = choices && config ? choices.of(config) : [];
    // An alert that names the thing in a label of the same key (`target="database"`) gets that one only.
    const labelled = choices ? named.filter((thing) => thing.name === view.commonLabels[choices.key]) : [];
    const things = labelled.length === 1 ? labelled : named;
    const targets = choices && named.length > 1 ? things.map((thing) => ({ name: thing.name, input: { service, [choices.key]: thing.name } })) : [{ name: undefined, input: { service } }];
    return targets.flatMap(({ name, input }): RunbookButton[] => {
      if (!action.input.safeParse(input).success) return [];
      const what = name ? `${service} ${name}` : service;
      const button: RunbookButton = { actionId, label: name ? `${action.title}: ${name}` : action.title, input };
      return action.risk === 'destructive' ? [{ ...button, confirm: { title: `${action.title}?`, text: `${action.title} ${what} now, for incident #${view.number}?` } }] : [button];
    });
  });
}

export interface ProjectorOptions {
  catalog: Catalog;
  registry: Registry;
  outbox: OutboxWriter;
  now: () => Date;
  /** Told once per incident that no route and no defaultRoute gives it a channel. */
  onUnrouted?: (incidentId: string) => void;
  /** Alert storms: which incidents only appear in a channel's digest (see storm.ts). */
  storms?: StormRouter;
}

/** Projects one change, or with `many` a batch's changes (their views read in one statement). */
export type IncidentProjector = IncidentChanged & { many: IncidentsChanged };

/** Pages go ahead of routine replies in the outbox. */
const priorityOf = (event: TimelineEvent): 'page' | 'routine' => (event.kind === 'escalated' ? 'page' : 'routine');

/** A thread opened late (from a storm digest) replays at most this many timeline events. */
const MAX_REPLAYED = 20;

/**
 * The thread of an incident that so far was only listed in a digest: its timeline from the store,
 * which already holds the events of the change being projected (every writer appends them first).
 */
async function threadSoFar(tx: Queryable, view: IncidentView): Promise<Array<{ priority: 'page' | 'routine'; text: string; blocks?: KnownBlock[] }>> {
  const events = mergeResolution(
    (await timelineOf(tx, view.id)).flatMap((entry) => toTimelineEvent({ kind: entry.kind, at: entry.at, actor: entry.actor, data: entry.data } as IncidentEvent) ?? []),
  ).map((timeline) => ({ timeline, priority: priorityOf(timeline) }));
  const shown = events.slice(-MAX_REPLAYED);
  const skipped = events.length - shown.length;
  return [
    ...(skipped > 0 ? [{ priority: 'routine' as const, text: `_This incident was only listed in a storm digest until now; its first ${skipped === 1 ? 'event is' : `${skipped} events are`} left out here. The message above shows its current state._` }] : []),
    ...shown.map(({ timeline, priority }) => ({ priority, ...renderTimelineEvent(timeline, view) })),
  ];
}

/**
 * Renders an incident after every change and enqueues its Slack writes in the same
 * transaction: the parent message (posted once, then edited in place, coalesced by the
 * outbox) and one thread reply per event. With `storms`, an incident listed in a storm digest
 * writes nothing of its own until its thread is opened; then its parent and timeline are posted.
 */
export function createIncidentProjector(options: ProjectorOptions): IncidentProjector {
  const { catalog, registry, outbox, now } = options;

  async function routeOf(tx: Queryable, view: IncidentView, stored: string | null): Promise<{ route: MatchedRoute | undefined; channel: string | null; isNew: boolean }> {
    const labels = { ...view.commonLabels, ...view.groupLabels };
    const route = routeFor(catalog, labels);
    if (stored) return { route, channel: stored, isNew: false };
    const channel = route?.channel || null;
    if (channel) await setRoute(tx, view.id, channel, route!.name);
    return { route, channel, isNew: channel !== null };
  }

  async function project(tx: Queryable, incidentId: string, events: readonly IncidentEvent[], found: { view: IncidentView; channel: string | null } | undefined, placed?: DigestPlacement | null): Promise<void> {
    if (!found) return;
    const stored = found.view;
    const { route, channel, isNew } = await routeOf(tx, stored, found.channel);
    if (!channel) {
      options.onUnrouted?.(incidentId);
      return;
    }
    const at = now();
    const placement = options.storms ? await options.storms.place(tx, { incidentId, channel, isNew, events, now: at, ...(placed !== undefined ? { placed } : {}) }) : undefined;
    if (placement?.kind === 'digest') return;
    const view: IncidentView = { ...stored, buttons: route ? runbookButtons(route, stored, registry, catalog.services) : [] };
    const parent = renderIncident(view, at);
    const key = incidentMessageKey(incidentId);
    if (placement?.kind === 'open') {
      await outbox.enqueue(tx, { kind: 'post', channel, messageKey: key, priority: placement.priority, ...parent });
      for (const reply of await threadSoFar(tx, view)) await outbox.enqueue(tx, { kind: 'reply', threadKey: key, ...reply });
      return;
    }
    if (isNew) await outbox.enqueue(tx, { kind: 'post', channel, messageKey: key, priority: 'routine', ...parent });
    else await outbox.enqueue(tx, { kind: 'update', messageKey: key, priority: 'routine', ...parent });
    for (const timeline of mergeResolution(events.flatMap((event) => toTimelineEvent(event) ?? []))) {
      const reply = renderTimelineEvent(timeline, view);
      await outbox.enqueue(tx, { kind: 'reply', threadKey: key, priority: priorityOf(timeline), ...reply });
    }
  }

  const one: IncidentChanged = async (tx, incidentId, events) => project(tx, incidentId, events, await incidentViewWithChannel(tx, incidentId));
  // A batch reads its incidents' views, and where the routed ones are listed in a storm, in one
  // statement each; projecting one incident changes nothing another one's projection reads.
  const many: IncidentsChanged = async (tx, changes) => {
    const found = await incidentViewsWithChannel(tx, changes.map((c) => c.incidentId));
    const routed = changes.filter((c) => found.get(c.incidentId)?.channel).map((c) => c.incidentId);
    const placements = options.storms && routed.length > 0 ? await options.storms.placementsOf(tx, routed) : undefined;
    for (const { incidentId, events } of changes) {
      const placed = placements && found.get(incidentId)?.channel ? (placements.get(incidentId) ?? null) : undefined;
      await project(tx, incidentId, events, found.get(incidentId), placed);
    }
  };
  return Object.assign(one, { many });
}
