import type { Db, Queryable } from '../store/db.js';
import * as incidents from '../store/incidents-repository.js';
import type { IncidentEvent } from './apply-notification.js';
import type { IncidentView } from './incident-view.js';

/** Called inside the transaction of every incident change, to render and enqueue its Slack writes. */
export type IncidentChanged = (tx: Queryable, incidentId: string, events: readonly IncidentEvent[]) => Promise<void>;

/** One incident's change in a batch. */
export interface IncidentChange {
  incidentId: string;
  events: readonly IncidentEvent[];
}

/**
 * `IncidentChanged` for the changes of one batch (each incident once, in order), in its
 * transaction: what the hook reads for them it reads in one statement, not one per incident.
 */
export type IncidentsChanged = (tx: Queryable, changes: readonly IncidentChange[]) => Promise<void>;

/** What people do to incidents, from buttons and `/ops`: each change commits with its Slack writes. */
export interface IncidentDesk {
  /** `42`, `#42` or an incident id. */
  find(ref: string): Promise<IncidentView | undefined>;
  open(limit: number): Promise<IncidentView[]>;
  acknowledge(id: string, userId: string): Promise<incidents.ChangeResult>;
  resolve(id: string, userId: string): Promise<incidents.ChangeResult>;
  /** `null` lifts the silence; `clearedBy` is who lifted it. */
  setSilence(id: string, silence: { silenceId: string; endsAt: Date; by: string } | null, clearedBy?: string): Promise<incidents.ChangeResult>;
  /** Puts a run started from the incident (a runbook button, an automation) into its timeline. */
  recordRun(id: string, actor: string, run: Extract<IncidentEvent, { kind: 'run_finished' }>['data']): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createIncidentDesk(options: { db: Db; now: () => Date; onIncidentChanged: IncidentChanged }): IncidentDesk {
  const { db, now, onIncidentChanged } = options;
  const change = (id: string, apply: (tx: Queryable) => Promise<incidents.ChangeResult>) =>
    db.transaction(async (tx) => {
      const result = await apply(tx);
      if (result.events.length > 0) await onIncidentChanged(tx, id, result.events);
      return result;
    });
  return {
    async find(ref) {
      const text = ref.replace(/^#/, '');
      if (UUID.test(text)) return incidents.incidentView(db, text);
      return /^\d{1,9}$/.test(text) ? incidents.byNumber(db, Number(text)) : undefined;
    },
    open: (limit) => incidents.openIncidents(db, { limit }),
    acknowledge: (id, userId) => change(id, (tx) => incidents.acknowledge(tx, id, userId, now())),
    resolve: (id, userId) => change(id, (tx) => incidents.resolveManually(tx, id, userId, now())),
    setSilence: (id, silence, clearedBy) => change(id, (tx) => incidents.setSilence(tx, id, silence, now(), clearedBy)),
    async recordRun(id, actor, run) {
      await change(id, async (tx) => {
        const event: IncidentEvent = { kind: 'run_finished', at: now(), actor, data: run };
        await incidents.appendTimeline(tx, id, [event]);
        return { found: true, events: [event] };
      });
    },
  };
}
