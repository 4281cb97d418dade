import type { Logger } from 'pino';
import type { Dispatcher } from '../commands/dispatch.js';
import type { Registry } from '../commands/registry.js';
import type { Catalog } from '../config/catalog-schema.js';
import { formatDuration } from '../config/duration.js';
import { createTicker } from '../jobs/ticker.js';
import type { Db } from '../store/db.js';
import { claimDue, markDone, markRunning, markSkipped, startedSince, sweepAbandoned, type DueAutomation, type IncidentAtDue } from './automation-store.js';
import type { IncidentDesk } from './incident-desk.js';
import { isSlackUserId } from './mrkdwn.js';

export interface AutomationRunnerOptions {
  db: Db;
  /** Runs whose rule is no longer in the catalog are skipped. */
  catalog: Catalog;
  registry: Registry;
  dispatcher: Pick<Dispatcher, 'dispatch'>;
  incidents: Pick<IncidentDesk, 'recordRun'>;
  logger: Logger;
  now?: () => Date;
  /** How often due automations are looked for; default 1 s. */
  intervalMs?: number;
  /** At most this many due automations are started per tick; default 10. */
  batch?: number;
  /** A run still 'running' this long after it started belonged to an instance that stopped; default 2 h. */
  leaseMs?: number;
}

export interface AutomationRunner {
  start(): void;
  /** Stops looking for due automations and waits for the runs it started (dispatch's drain aborts them at shutdown). */
  stop(): Promise<void>;
  /** One tick now: sweeps, claims and starts what is due (tests). */
  tickNow(): Promise<void>;
  /** Resolves once the runs started so far have finished and are recorded (tests). */
  idle(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const ABANDONED = 'Switchboard stopped while this automatic run was under way; its outcome is unknown (see the runs table and the service).';

type Claimed = { kind: 'run'; due: DueAutomation } | { kind: 'skip'; due: DueAutomation; reason: string };

/** The rule's name as the audit record and the thread show it: `<route>/<alertname>`. */
export const automationName = (due: Pick<DueAutomation, 'routeName' | 'alertname'>) => `${due.routeName}/${due.alertname}`;

const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

const ruleExists = (catalog: Catalog, due: DueAutomation) =>
  catalog.routes.some((r) => r.name === due.routeName && r.automations.some((a) => a.alertname === due.alertname && a.action === due.actionId));

/** Why a due automation must not run now; undefined when it should. */
function whyNot(catalog: Catalog, due: DueAutomation, incident: IncidentAtDue): string | undefined {
  if (!ruleExists(catalog, due)) return 'the catalog no longer has this rule';
  if (incident.status === 'resolved') return 'the incident is resolved';
  if (!incident.stillFiring) return `no \`${due.alertname}\` alert fires any more`;
  if (incident.acknowledgedBy) {
    const who = isSlackUserId(incident.acknowledgedBy) ? `<@${incident.acknowledgedBy}>` : 'someone';
    return `${who} acknowledged the incident, so people are on it`;
  }
  if (!due.target) return "the route names no `service` and the alerts' `service` label is not a catalog service";
  return undefined;
}

/**
 * Runs due automations once across instances: each due row is claimed with FOR UPDATE SKIP
 * LOCKED and decided in the same short transaction (still firing? acknowledged? maxPerHour per
 * action and target?); the run then goes through `dispatch` as the `automation` actor, so the
 * lock, cooldown and audit record apply, and its result goes into the incident's thread.
 */
export function createAutomationRunner(options: AutomationRunnerOptions): AutomationRunner {
  const { db, registry, dispatcher, incidents, logger } = options;
  const now = options.now ?? (() => new Date());
  const batch = options.batch ?? 10;
  const leaseMs = options.leaseMs ?? 2 * HOUR_MS;
  const log = logger.child({ component: 'automations' });
  const inFlight = new Set<Promise<void>>();

  const titleOf = (actionId: string) => registry.get(actionId)?.title ?? actionId;

  async function claimOne(): Promise<Claimed | undefined> {
    return db.transaction(async (tx) => {
      const at = now();
      const claimed = await claimDue(tx, at);
      if (!claimed) return undefined;
      const { due, incident } = claimed;
      let reason = whyNot(options.catalog, due, incident);
      if (!reason && due.target) {
        const recent = await startedSince(tx, due.actionId, due.target, new Date(at.getTime() - HOUR_MS));
        if (recent.count >= due.maxPerHour) {
          const last = recent.last ? `, last at ${recent.last.toISOString().slice(11, 16)} UTC` : '';
          reason = `${titleOf(due.actionId)} already ran automatically ${times(recent.count)} on \`${due.target}\` in the last hour${last} (maxPerHour: ${due.maxPerHour})`;
        }
      }
      if (reason) {
        await markSkipped(tx, due.id, at, reason);
        return { kind: 'skip', due, reason };
      }
      await markRunning(tx, due.id, at, new Date(at.getTime() + leaseMs));
      return { kind: 'run', due };
    });
  }

  async function tell(due: DueAutomation, run: { status: 'succeeded' | 'failed' | 'timed_out' | 'refused'; summary: string; ref: string }): Promise<void> {
    await incidents
      .recordRun(due.incidentId, 'automation', { actionTitle: titleOf(due.actionId), ...run, ...(due.target ? { target: due.target } : {}) })
      .catch((error: unknown) => log.error({ err: error, automation: due.id, incident: due.incidentId }, 'could not put an automatic run into the incident thread'));
  }

  async function run(due: DueAutomation): Promise<void> {
    const name = automationName(due);
    const result = await dispatcher.dispatch({
      actionId: due.actionId,
      input: due.input,
      actor: { id: 'automation', name, kind: 'automation' },
      origin: 'automation',
    });
    // `allowed` only answers a preflight; an automation never asks for one.
    const status = result.status === 'invalid' || result.status === 'allowed' || result.status === 'running' ? 'refused' : result.status;
    const recorded = await markDone(db, due.id, { now: now(), ref: result.ref, status: result.status === 'invalid' ? 'invalid' : status });
    if (!recorded) log.warn({ automation: due.id, ref: result.ref }, 'an automatic run finished after its lease ran out and was already recorded as abandoned');
    log.info({ automation: due.id, rule: name, action: due.actionId, target: due.target, incident: due.incidentId, status: result.status, ref: result.ref }, 'automation ran');
    await tell(due, { status, summary: `Automation \`${name}\` (after ${formatDuration(due.afterMs)} firing, unacknowledged):\n${result.reply.text}`, ref: result.ref });
  }

  async function tick(): Promise<void> {
    for (const due of await sweepAbandoned(db, now(), ABANDONED)) {
      log.warn({ automation: due.id, incident: due.incidentId }, 'an automatic run was abandoned by an instance that stopped');
      await tell(due, { status: 'failed', summary: ABANDONED, ref: '' });
    }
    for (let i = 0; i < batch; i++) {
      const claimed = await claimOne();
      if (!claimed) break;
      if (claimed.kind === 'skip') {
        log.info({ automation: claimed.due.id, rule: automationName(claimed.due), reason: claimed.reason }, 'automation skipped');
        await tell(claimed.due, { status: 'refused', summary: `Automation \`${automationName(claimed.due)}\` skipped: ${claimed.reason}.`, ref: '' });
        continue;
      }
      // Not awaited: a slow restart must not hold up the automations due after it.
      const running = run(claimed.due).catch((error: unknown) => log.error({ err: error, automation: claimed.due.id }, 'automatic run failed'));
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    }
  }

  const ticker = createTicker({ name: 'automations', intervalMs: options.intervalMs ?? 1_000, tick, logger: log });
  return {
    start: ticker.start,
    async stop() {
      await ticker.stop();
      await Promise.all([...inFlight]);
    },
    tickNow: ticker.tickNow,
    async idle() {
      await Promise.all([...inFlight]);
    },
  };
}

/** Rules that can never run as written: unknown actions, or inputs the action refuses. For a warning at start. */
export function automationProblems(catalog: Catalog, registry: Registry): string[] {
  return catalog.routes.flatMap((route) =>
    route.automations.flatMap((rule, index) => {
      const where = `routes.${route.name}.automations[${index}]`;
      const action = registry.get(rule.action);
      if (!action) return [`${where}: there is no action "${rule.action}"`];
      if (route.service && !action.input.safeParse({ service: route.service }).success) return [`${where}: ${rule.action} needs more than { service: ${route.service} } and cannot run automatically`];
      return [];
    }),
  );
}
