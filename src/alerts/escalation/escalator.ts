import type { Logger } from 'pino';
import type { Catalog } from '../../config/catalog-schema.js';
import { createTicker } from '../../jobs/ticker.js';
import type { Db, Queryable } from '../../store/db.js';
import { appendTimeline } from '../../store/incidents-repository.js';
import type { IncidentEvent } from '../apply-notification.js';
import type { IncidentChange, IncidentChanged, IncidentsChanged } from '../incident-desk.js';
import { routeFor } from '../match-route.js';
import type { OutboxWriter } from '../outbox-port.js';
import { incidentMessageKey } from '../project-incident.js';
import { mentionTarget, nextStep, snapshotPolicy, stepDueAt, totalSteps, type DueLevel, type EscalationDecision, type EscalationSnapshot, type ResolvedTarget } from './engine.js';
import type { EscalationMetrics } from './escalation-metrics.js';
import {
  beginEscalation,
  claimDueEscalation,
  escalationIncidents,
  hasThread,
  progressForUpdate,
  recordStep,
  pauseEscalation,
  restartEscalation,
  resumeEscalation,
  saveProgress,
  type ClaimedEscalation,
  type EscalationIncident,
} from './escalation-store.js';
import { liveOverrides } from './oncall-overrides.js';
import { renderNobodyWarning, renderPageDm, renderReminder } from './render-escalation.js';

/** The actor of timeline events escalation writes. */
export const ESCALATION_ACTOR = 'switchboard';

/** How often the ticker looks for due steps by default. */
export const DEFAULT_ESCALATION_INTERVAL_MS = 1_000;

/** Bounds one tick, so a flood of due rows cannot keep a tick from ending (the next tick goes on). */
const MAX_STEPS_PER_TICK = 200;

export interface EscalatorOptions {
  db: Db;
  catalog: Pick<Catalog, 'routes' | 'defaultRoute' | 'services' | 'schedules' | 'escalationPolicies' | 'severityPolicies'>;
  outbox: OutboxWriter;
  /** Renders an incident's change into the outbox (the projector); escalation calls it for its own events. */
  project: IncidentChanged & { many?: IncidentsChanged };
  now: () => Date;
  logger: Logger;
  metrics?: EscalationMetrics;
  intervalMs?: number;
}

/**
 * Runs escalation for real: freezes a policy onto each incident as it opens, fires due steps
 * from the database, and stops at acknowledgement or resolution.
 */
export interface Escalator {
  /** The incident-change hook for intake and desk: starts, restarts and stops escalation, then projects the change. */
  onIncidentChanged: IncidentChanged;
  /** `onIncidentChanged` for a batch of changes in one transaction (the intake's batches). */
  onIncidentsChanged: IncidentsChanged;
  /** Fires due steps every `intervalMs`, on every instance; the database makes each fire once. */
  start(): void;
  /** Stops the ticker and waits for a tick in progress. */
  stop(): Promise<void>;
  /** One tick now: every step due at `now()` fires (tests drive the clock with this). */
  tickNow(): Promise<void>;
}

/** What evaluating one escalation decided: an event for the timeline, writes that need the channel, counters. */
interface Evaluation {
  event?: IncidentEvent;
  /** Runs after the event was projected, in the same transaction (the channel is known by then). */
  after?: (tx: Queryable) => Promise<void>;
  /** Counters to bump once the transaction committed. */
  count?: () => void;
}

/** One change once escalation has had its say: the events to project, and the evaluation made for it. */
interface Decided {
  incidentId: string;
  events: readonly IncidentEvent[];
  evaluation?: Evaluation;
}

export function createEscalator(options: EscalatorOptions): Escalator {
  const { db, catalog, outbox, project, now, logger } = options;
  const metrics = options.metrics;

  /** The route's policy, else the severity's; undefined when neither names one. */
  function policyFor(incident: EscalationIncident): string | undefined {
    const labels = { ...incident.commonLabels, ...incident.groupLabels };
    const route = routeFor(catalog, labels);
    const name = route?.escalation ?? (Object.hasOwn(catalog.severityPolicies, incident.severity) ? catalog.severityPolicies[incident.severity] : undefined);
    // The catalog check refuses unknown names; an incident must open even if one slipped through.
    if (name !== undefined && !Object.hasOwn(catalog.escalationPolicies, name)) {
      logger.error({ incident: incident.id, policy: name }, `escalation policy "${name}" is not in the catalog; incident #${incident.number} will not escalate`);
      return undefined;
    }
    return name;
  }

  const firstDue = (snapshot: EscalationSnapshot, startedAt: Date): Date | null => (totalSteps(snapshot) > 0 ? stepDueAt(snapshot, startedAt, 0) : null);

  async function channelOf(tx: Queryable, incidentId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ channel: string | null }>('SELECT channel FROM incidents WHERE id = $1', [incidentId]);
    return rows[0]?.channel ?? undefined;
  }

  async function evaluate(tx: Queryable, claimed: ClaimedEscalation, at: Date): Promise<Evaluation> {
    const { incident, snapshot } = claimed;
    if (incident.status !== 'firing') {
      await saveProgress(tx, claimed.incidentId, at, { nextDueAt: null });
      return {};
    }
    // Alertmanager pages nobody for a silenced alert, and says nothing when it resolves: while a
    // silence covers every firing alert the ladder stands still, looking again when it ends.
    if (incident.silence && incident.silence.endsAt.getTime() > at.getTime()) {
      await pauseEscalation(tx, claimed.incidentId, at, incident.silence.endsAt);
      return {};
    }
    let esc = claimed;
    if (esc.pausedAt) {
      const { pausedAt, ...running } = esc;
      esc = { ...running, startedAt: await resumeEscalation(tx, esc.incidentId, at, esc.startedAt, pausedAt) };
    }
    if (incident.acknowledged) return remind(tx, esc, incident.acknowledged, at);
    const overrides = await liveOverrides(tx, esc.startedAt, Object.keys(snapshot.schedules));
    const decision = nextStep(snapshot, esc.startedAt, { notifiedSteps: esc.notifiedSteps }, at, overrides);
    switch (decision.kind) {
      case 'stop':
        await saveProgress(tx, esc.incidentId, at, { nextDueAt: null });
        return {};
      case 'wait':
        await saveProgress(tx, esc.incidentId, at, { nextDueAt: decision.until });
        return {};
      case 'notify':
        return fire(tx, esc, decision, at);
    }
  }

  async function fire(tx: Queryable, esc: ClaimedEscalation, decision: Extract<EscalationDecision, { kind: 'notify' }>, at: Date): Promise<Evaluation> {
    const { incident, snapshot } = esc;
    const next = decision.step + 1;
    const nextDueAt = next < totalSteps(snapshot) ? stepDueAt(snapshot, esc.startedAt, next) : null;
    const page = pageOf(decision.due);
    const paged = page.targets;
    const nobody = page.nobody;
    const level = decision.level + 1;
    const levels = snapshot.levels.length;
    await recordStep(tx, {
      incidentId: esc.incidentId,
      episode: esc.episode,
      step: decision.step,
      level: decision.level,
      dueAt: decision.dueAt,
      firedAt: at,
      collapsed: decision.collapsed,
      targets: paged.map(mentionTarget),
      nobody,
    });
    await saveProgress(tx, esc.incidentId, at, { notifiedSteps: next, nextDueAt });
    // Several levels due at once (a late notification, a burst, downtime) page together: the
    // reply names each level's people, so the first level hears of it too.
    const due = decision.due.length > 1 ? { due: decision.due.map((d) => ({ level: d.level + 1, targets: d.targets.filter((t) => t.kind !== 'nobody').map(mentionTarget) })) } : {};
    const event: IncidentEvent = { kind: 'escalated', at, actor: ESCALATION_ACTOR, data: { level, levels, targets: paged.map(mentionTarget), ...due } };
    return {
      event,
      async after(tx) {
        // The projector has just recorded the channel of an incident that opened in this transaction.
        const channel = await channelOf(tx, incident.id);
        const seen: EscalationIncident = { ...incident, ...(channel ? { channel } : {}) };
        if (nobody.length > 0) {
          if (await hasThread(tx, incidentMessageKey(incident.id))) {
            const text = renderNobodyWarning({ level, levels, paged: paged.length }, nobody);
            await outbox.enqueue(tx, { kind: 'reply', threadKey: incidentMessageKey(incident.id), priority: 'page', text });
          } else {
            logger.warn({ incident: incident.id, level, reasons: nobody }, `incident #${incident.number} escalated to level ${level}, which pages nobody, and it has no Slack thread to say so in`);
          }
        }
        const unansweredMs = at.getTime() - esc.startedAt.getTime();
        // A group's mention in the thread notifies its members; users get a DM each, once, naming their own level.
        for (const { userId, level: own, round } of page.users) {
          const dm = renderPageDm(seen, { level: own + 1, levels, round, unansweredMs });
          // The page links to the thread: it waits while the incident's parent message is not posted.
          await outbox.enqueue(tx, { kind: 'dm', userId, priority: 'page', ...dm, afterKey: incidentMessageKey(incident.id) });
        }
      },
      count() {
        for (const d of decision.due) metrics?.escalated(d.level + 1);
        for (const target of paged) metrics?.paged(target.kind === 'user' ? target.userId : target.kind === 'usergroup' ? target.usergroupId : 'nobody');
        if (paged.length === 0) metrics?.paged('nobody');
      },
    };
  }

  /** One reminder when `remindAfter` has passed since the acknowledgement (missed ones fold into it), then every `remindAfter`. */
  async function remind(tx: Queryable, esc: ClaimedEscalation, acknowledged: { userId: string; at: Date }, at: Date): Promise<Evaluation> {
    const every = esc.snapshot.remindAfter;
    if (!every) {
      await saveProgress(tx, esc.incidentId, at, { nextDueAt: null });
      return {};
    }
    const ackAt = acknowledged.at.getTime();
    const due = Math.floor((at.getTime() - ackAt) / every);
    if (due <= esc.remindersSent) {
      await saveProgress(tx, esc.incidentId, at, { nextDueAt: new Date(ackAt + (esc.remindersSent + 1) * every) });
      return {};
    }
    await saveProgress(tx, esc.incidentId, at, { remindersSent: due, nextDueAt: new Date(ackAt + (due + 1) * every) });
    return {
      async after(tx) {
        const key = incidentMessageKey(esc.incidentId);
        const channel = await channelOf(tx, esc.incidentId);
        const inThread = await hasThread(tx, key);
        const text = renderReminder({ number: esc.incident.number, ...(channel ? { channel } : {}) }, acknowledged, at, { inThread });
        if (inThread) await outbox.enqueue(tx, { kind: 'reply', threadKey: key, priority: 'routine', text });
        else await outbox.enqueue(tx, { kind: 'dm', userId: acknowledged.userId, priority: 'routine', text });
      },
    };
  }

  /** Records what an evaluation decided; its event is projected after `before` (the events that led here). */
  async function record(tx: Queryable, incidentId: string, evaluation: Evaluation, before: readonly IncidentEvent[]): Promise<Decided> {
    if (evaluation.event) await appendTimeline(tx, incidentId, [evaluation.event]);
    return { incidentId, events: evaluation.event ? [...before, evaluation.event] : before, evaluation };
  }

  /** Projects the decided changes (a batch's in one go), then writes what needed their channel. */
  async function settle(tx: Queryable, decided: readonly Decided[]): Promise<void> {
    const changes = decided.filter((d) => d.events.length > 0);
    if (changes.length > 1 && project.many) await project.many(tx, changes);
    else for (const change of changes) await project(tx, change.incidentId, change.events);
    for (const d of decided) await d.evaluation?.after?.(tx);
  }

  const relevantOf = (events: readonly IncidentEvent[]) =>
    events.filter((e) => e.kind === 'opened' || e.kind === 'reopened' || e.kind === 'acknowledged' || e.kind === 'resolved' || e.kind === 'silenced' || e.kind === 'unsilenced');

  /** Starts, restarts or stops the incident's escalation for its events; `found` is its escalation read, absent when none is relevant. */
  async function decide(tx: Queryable, incidentId: string, events: readonly IncidentEvent[], found: { incident: EscalationIncident; snapshot?: EscalationSnapshot } | undefined): Promise<Decided> {
    if (!found) return { incidentId, events };
    const { incident } = found;
    let snapshot = found.snapshot;
    const at = now();
    let begun = false;
    // A silence set or lifted pauses or resumes the ladder now, not at its next due step.
    let silenceChanged = false;
    for (const event of relevantOf(events)) {
      switch (event.kind) {
        case 'opened': {
          if (incident.status !== 'firing' || snapshot) break;
          const policy = policyFor(incident);
          if (!policy) break;
          snapshot = snapshotPolicy(policy, catalog.escalationPolicies, catalog.schedules);
          begun = await beginEscalation(tx, incidentId, snapshot, event.at, firstDue(snapshot, event.at));
          break;
        }
        case 'reopened':
          if (snapshot) begun = await restartEscalation(tx, incidentId, event.at, firstDue(snapshot, event.at));
          break;
        case 'acknowledged': {
          metrics?.acknowledged((event.at.getTime() - incident.openedAt.getTime()) / 1_000, incident.severity);
          const every = snapshot?.remindAfter;
          await saveProgress(tx, incidentId, at, { nextDueAt: every ? new Date(event.at.getTime() + every) : null, remindersSent: 0 });
          break;
        }
        case 'resolved':
          metrics?.resolved((event.at.getTime() - incident.openedAt.getTime()) / 1_000, incident.severity);
          await saveProgress(tx, incidentId, at, { nextDueAt: null });
          break;
        case 'silenced':
        case 'unsilenced':
          silenceChanged = incident.status === 'firing';
          break;
      }
    }
    // A first level due at once pages in the transaction that opened the incident, and its
    // parent message is first posted showing level 1.
    const progress = (begun || silenceChanged) && snapshot ? await progressForUpdate(tx, incidentId) : undefined;
    if (!progress || !snapshot) return { incidentId, events };
    const due = progress.nextDueAt !== undefined && progress.nextDueAt.getTime() <= at.getTime();
    if (!due && !silenceChanged) return { incidentId, events };
    const evaluation = await evaluate(tx, { incidentId, ...progress, nextDueAt: progress.nextDueAt ?? at, snapshot, incident }, at);
    return record(tx, incidentId, evaluation, events);
  }

  // Every decision of the batch first (one read of the incidents escalation concerns), then every projection.
  async function onIncidentsChanged(tx: Queryable, changes: readonly IncidentChange[]): Promise<void> {
    const found = await escalationIncidents(tx, changes.filter((c) => relevantOf(c.events).length > 0).map((c) => c.incidentId));
    const decided: Decided[] = [];
    for (const { incidentId, events } of changes) decided.push(await decide(tx, incidentId, events, found.get(incidentId)));
    await settle(tx, decided);
    for (const d of decided) d.evaluation?.count?.();
  }

  const onIncidentChanged: IncidentChanged = (tx, incidentId, events) => onIncidentsChanged(tx, [{ incidentId, events }]);

  async function tick(): Promise<void> {
    const attempted: string[] = [];
    for (let i = 0; i < MAX_STEPS_PER_TICK; i++) {
      const at = now();
      let evaluation: Evaluation | undefined;
      const claimed = attempted.length;
      try {
        evaluation = await db.transaction(async (tx) => {
          const due = await claimDueEscalation(tx, at, attempted);
          if (!due) return undefined;
          attempted.push(due.incidentId);
          const result = await evaluate(tx, due, at);
          await settle(tx, [await record(tx, due.incidentId, result, [])]);
          return result;
        });
      } catch (error) {
        // Nothing was claimed: the store is failing, and the next tick will try again.
        if (attempted.length === claimed) throw error;
        // The row stays due; the next tick tries it again, and this one goes on with the others.
        logger.error({ err: error, incident: attempted[attempted.length - 1] }, 'escalation: could not fire a due step; it stays due');
        continue;
      }
      if (!evaluation) return;
      evaluation.count?.();
    }
  }

  const ticker = createTicker({ name: 'escalation', intervalMs: options.intervalMs ?? DEFAULT_ESCALATION_INTERVAL_MS, tick, logger });
  return { onIncidentChanged, onIncidentsChanged, start: () => ticker.start(), stop: () => ticker.stop(), tickNow: () => ticker.tickNow() };
}

/** The people of every due level, each once: who the page mentions, who gets a DM (with the level they were due at), and why a level had nobody. */
function pageOf(due: readonly DueLevel[]): { targets: ResolvedTarget[]; users: Array<{ userId: string; level: number; round: number }>; nobody: string[] } {
  const targets: ResolvedTarget[] = [];
  const users: Array<{ userId: string; level: number; round: number }> = [];
  const nobody: string[] = [];
  const seen = new Set<string>();
  for (const d of due) {
    for (const target of d.targets) {
      if (target.kind === 'nobody') {
        if (!nobody.includes(target.reason)) nobody.push(target.reason);
        continue;
      }
      const key = target.kind === 'user' ? `user:${target.userId}` : `usergroup:${target.usergroupId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push(target);
      if (target.kind === 'user') users.push({ userId: target.userId, level: d.level, round: d.round });
    }
  }
  return { targets, users, nobody };
}
