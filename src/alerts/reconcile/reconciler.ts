import type { Logger } from 'pino';
import { createTicker } from '../../jobs/ticker.js';
import type { Db } from '../../store/db.js';
import { setSilence } from '../../store/incidents-repository.js';
import type { IncidentChanged } from '../incident-desk.js';
import { formatDuration } from '../../config/duration.js';
import type { AlertmanagerView, HeldAlert, SilenceInfo } from './alertmanager-view.js';
import { judgeIncident, type Answers, type OpenIncident } from './judge-incident.js';
import type { ReconcileMetrics } from './reconcile-metrics.js';
import { claimReconcile, markMissing, openIncidentsToReconcile, recordReachability, silenceForUpdate } from './reconcile-store.js';
import { resolveGone } from './resolve-gone.js';

/** The actor of silence changes reconciliation learns from Alertmanager. */
const ALERTMANAGER_ACTOR = 'alertmanager';

export interface ReconcilerOptions {
  db: Db;
  /** Every configured Alertmanager (an HA pair: both). */
  alertmanagers: readonly AlertmanagerView[];
  /** The incident-change hook of the webhook's changes (escalation, projection, automations). */
  onIncidentChanged: IncidentChanged;
  now: () => Date;
  logger: Logger;
  metrics?: ReconcileMetrics;
  /** How often open incidents are checked, once across instances. */
  intervalMs: number;
  /** How long a firing alert must be missing from every reachable Alertmanager to count as gone. */
  goneAfterMs: number;
  /** Names this instance in the claim. */
  instance: string;
}

/**
 * Checks open incidents against Alertmanager's API v2, since some of their changes are never
 * notified: nothing is sent for a silenced alert (not even its resolution), and a resolution lost
 * on the way (a restart, a receiver changed, a dropped notification) is not sent again.
 */
export interface Reconciler {
  start(): void;
  stop(): Promise<void>;
  /** One reconciliation now, if this interval's is not taken yet (tests drive the clock with this). */
  tickNow(): Promise<void>;
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { db, alertmanagers, onIncidentChanged, now, logger, metrics, intervalMs, goneAfterMs, instance } = options;

  /** Asks every Alertmanager at once; records and logs (once per outage) which answered. */
  async function ask(): Promise<Answers> {
    return Promise.all(
      alertmanagers.map(async (am) => {
        let alerts: Map<string, HeldAlert> | undefined;
        let error: string | undefined;
        try {
          alerts = new Map((await am.alerts()).map((a) => [a.fingerprint, a]));
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        const { change, since } = await recordReachability(db, am.url, alerts !== undefined, now(), error);
        if (change === 'down') {
          logger.error(
            { alertmanager: am.url, err: error },
            `Alertmanager at ${am.url} does not answer (${error}): open incidents are not reconciled with it, and nothing is resolved on its word until it answers. Check alertmanager.urls in the catalog and that Alertmanager runs; this is logged once per outage.`,
          );
        } else if (change === 'up') {
          logger.info({ alertmanager: am.url }, `Alertmanager at ${am.url} answers again${since ? ` after ${formatDuration(now().getTime() - since.getTime())}` : ''}: reconciliation with it resumed`);
        }
        return { url: am.url, alerts };
      }),
    );
  }

  /** Silence details, read once per reconciliation from the first Alertmanager that has it. */
  function silenceReader(answers: Answers) {
    const cache = new Map<string, Promise<SilenceInfo | undefined>>();
    const reachable = alertmanagers.filter((am) => answers.find((a) => a.url === am.url)?.alerts);
    return (id: string) => {
      let found = cache.get(id);
      if (!found) {
        found = (async () => {
          for (const am of reachable) {
            try {
              return await am.silence(id);
            } catch (error) {
              logger.warn({ err: error, alertmanager: am.url, silence: id }, `could not read silence ${id} from Alertmanager at ${am.url}`);
            }
          }
          return undefined;
        })();
        cache.set(id, found);
      }
      return found;
    };
  }

  /** The silence that keeps every alert quiet longest: each alert's longest, then the soonest of those. */
  async function coveringSilence(silenceIds: ReadonlyArray<readonly string[]>, read: (id: string) => Promise<SilenceInfo | undefined>): Promise<SilenceInfo | undefined> {
    let covering: SilenceInfo | undefined;
    for (const ids of silenceIds) {
      let longest: SilenceInfo | undefined;
      for (const id of ids) {
        const info = await read(id);
        if (!info) return undefined; // not knowing until when, say nothing rather than something wrong
        if (!longest || info.endsAt > longest.endsAt) longest = info;
      }
      if (longest && (!covering || longest.endsAt < covering.endsAt)) covering = longest;
    }
    return covering;
  }

  async function applySilence(incident: OpenIncident, silence: SilenceInfo | null): Promise<void> {
    await db.transaction(async (tx) => {
      const current = await silenceForUpdate(tx, incident.id);
      if (!current || current.status !== 'firing') return;
      let result;
      if (silence) {
        const same = current.silence?.id === silence.id;
        if (same && Math.abs(current.silence!.endsAt.getTime() - silence.endsAt.getTime()) < 1_000) return;
        // A silence made from Slack keeps the Slack user who made it; one made elsewhere shows Alertmanager's createdBy.
        const by = same ? current.silence!.by : silence.createdBy || ALERTMANAGER_ACTOR;
        result = await setSilence(tx, incident.id, { silenceId: silence.id, endsAt: silence.endsAt, by }, now());
      } else {
        // Only the silence this check was about: one set from Slack after the read stays.
        if (!current.silence || current.silence.id !== incident.silence?.id) return;
        result = await setSilence(tx, incident.id, null, now(), ALERTMANAGER_ACTOR);
      }
      if (result.events.length > 0) await onIncidentChanged(tx, incident.id, result.events);
    });
  }

  async function reconcile(incident: OpenIncident, answers: Answers, checkedAt: Date, read: (id: string) => Promise<SilenceInfo | undefined>): Promise<void> {
    const judgement = judgeIncident(incident, answers, checkedAt, goneAfterMs);
    await markMissing(db, incident.id, judgement.missingNow, checkedAt);
    await markMissing(db, incident.id, judgement.seenAgain, null);
    if (judgement.gone.length > 0) {
      const alertmanagersAsked = answers.filter((a) => a.alerts).map((a) => a.url);
      const resolved = await db.transaction((tx) => resolveGone(tx, incident, judgement.gone, { at: checkedAt, alertmanagers: alertmanagersAsked }, now(), onIncidentChanged));
      if (resolved > 0) {
        metrics?.resolvedGone(resolved);
        logger.info({ incident: incident.id, alerts: judgement.gone, alertmanagers: alertmanagersAsked }, `incident #${incident.number}: ${resolved} alert(s) resolved, no Alertmanager has them any more`);
      }
      if (judgement.gone.length === incident.firing.length) return;
    }
    if (judgement.silence.kind === 'silenced') {
      const silence = await coveringSilence(judgement.silence.silenceIds, read);
      if (silence) await applySilence(incident, silence);
    } else if (judgement.silence.kind === 'active' && incident.silence) {
      await applySilence(incident, null);
    }
  }

  async function tick(): Promise<void> {
    if (!(await claimReconcile(db, now(), intervalMs, instance))) return;
    // Read before asking: an alert that fires after the answer is not in this read, so it cannot be taken for gone.
    const incidents = await openIncidentsToReconcile(db);
    const checkedAt = now();
    // Asked even with no incident open, so an outage (and its end) is known, logged and measured when it happens.
    const answers = await ask();
    if (!answers.some((a) => a.alerts)) {
      metrics?.unreachable();
      return;
    }
    const read = silenceReader(answers);
    for (const incident of incidents) {
      try {
        await reconcile(incident, answers, checkedAt, read);
      } catch (error) {
        logger.error({ err: error, incident: incident.id }, `reconciliation of incident #${incident.number} failed; the next one tries again`);
      }
    }
  }

  // Ticks several times per interval: the claim runs one per interval, and a tick drifting past a slot boundary skips none.
  const ticker = createTicker({ name: 'alertmanager reconciliation', intervalMs: Math.min(10_000, Math.max(250, Math.floor(intervalMs / 6))), tick, logger });
  return { start: () => ticker.start(), stop: () => ticker.stop(), tickNow: () => ticker.tickNow() };
}
