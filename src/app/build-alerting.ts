import type { Logger } from 'pino';
import { createIncidentDesk, type IncidentChanged, type IncidentDesk, type IncidentsChanged } from '../alerts/incident-desk.js';
import { createIntake } from '../alerts/intake.js';
import { createOutbox } from '../alerts/outbox.js';
import { createMinimalIncidentRenderer, MINIMAL_INCIDENT_PREFIX } from '../alerts/outbox-minimal.js';
import { registerOutboxMetrics } from '../alerts/outbox-metrics.js';
import { createIncidentProjector } from '../alerts/project-incident.js';
import { createNotificationProcessor, type NotificationProcessor } from '../alerts/notification-processor.js';
import { registerNotificationQueueMetrics } from '../alerts/notification-queue-metrics.js';
import { createAutomationScheduler } from '../alerts/automation-schedule.js';
import { createEscalationMetrics } from '../alerts/escalation/escalation-metrics.js';
import { countOpenIncidents } from '../alerts/escalation/escalation-store.js';
import { createEscalator, type Escalator } from '../alerts/escalation/escalator.js';
import { createOnCallOverrides, type OnCallOverrides } from '../alerts/escalation/oncall-overrides.js';
import { createReconcileMetrics } from '../alerts/reconcile/reconcile-metrics.js';
import { reachabilities } from '../alerts/reconcile/reconcile-store.js';
import { createReconciler, type Reconciler } from '../alerts/reconcile/reconciler.js';
import { createAlertmanagerViews } from '../integrations/alertmanager/index.js';
import { createBatchChannelLock, createDigestRenderer, createStormRouter, createThreadOpener, STORM_DIGEST, type ThreadOpener } from '../alerts/storm.js';
import type { Registry } from '../commands/registry.js';
import type { Catalog } from '../config/catalog-schema.js';
import type { Env } from '../config/env.js';
import { createSlackChatPoster, createSlackWebClient } from '../integrations/slack/chat-poster.js';
import type { ButtonSigner } from '../commands/button-value.js';
import { withSignedButtons } from './signed-buttons-poster.js';
import { createOutboxSender, type OutboxSender } from '../integrations/slack/outbox-sender.js';
import type { Db, Queryable } from '../store/db.js';
import { createNotificationWriter } from '../store/notification-writer.js';
import { createAlertmanagerHandler } from './routes/alertmanager.js';
import type { Handler } from './http-server.js';
import { toSlackLogger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface Alerting {
  incidents: IncidentDesk;
  /** `POST /alertmanager`. */
  webhook: Handler;
  /** Drains the outbox to Slack; absent when Slack is not connected (rows wait in the store). */
  sender: OutboxSender | undefined;
  /** The storm digest's Open thread button. */
  threads: ThreadOpener;
  /** Fires due escalation steps; start it once the server listens. */
  escalator: Escalator;
  /** On-call overrides (`/ops oncall override`), read live by the escalator. */
  oncall: OnCallOverrides;
  /** Applies the notifications the webhook stored; start it once the server listens. */
  notifications: NotificationProcessor;
  /** Checks open incidents against Alertmanager's API; absent when the catalog names no Alertmanager. */
  reconciler: Reconciler | undefined;
}

export interface AlertingOptions {
  db: Db;
  /** Where webhook deliveries are stored (connections of their own); default `db`. */
  intakeDb?: Queryable;
  env: Env;
  catalog: Catalog;
  registry: Registry;
  logger: Logger;
  metrics: Metrics;
  slackToken: string | undefined;
  /** Names this instance in claims other instances can see. */
  instanceId?: string;
  /** The clock; tests inject one. */
  now?: () => Date;
  /** Signs the values of the buttons the outbox sends (`withSignedButtons`). */
  buttonSigner?: ButtonSigner;
}

/** Alertmanager intake, incidents and their Slack threads through the durable outbox. */
export function buildAlerting(options: AlertingOptions): Alerting {
  const { db, env, catalog, registry, logger } = options;
  const now = options.now ?? (() => new Date());
  const unrouted = new Set<string>();
  const outbox = createOutbox();
  const storms = createStormRouter({ config: catalog.storm, outbox });
  const projector = createIncidentProjector({
    catalog,
    registry,
    outbox,
    now,
    storms,
    onUnrouted: (id) => {
      if (unrouted.size > 1_000 || unrouted.has(id)) return;
      unrouted.add(id);
      logger.warn({ incident: id }, 'an incident matches no route and the catalog has no defaultRoute: it is recorded but not posted; add `defaultRoute: { channel: … }`');
    },
  });
  const scheduleAutomations = createAutomationScheduler({ catalog, now });
  // The projector first: it records the incident's route, which says which automations apply.
  // The escalator freezes the policy and pages a level due at once, then calls the projector.
  const escalator = createEscalator({
    db,
    catalog,
    outbox,
    project: projector,
    now,
    logger: logger.child({ component: 'escalation' }),
    metrics: createEscalationMetrics(options.metrics.registry, () => countOpenIncidents(db)),
  });
  const onIncidentChanged: IncidentChanged = async (tx, id, events) => {
    await escalator.onIncidentChanged(tx, id, events);
    await scheduleAutomations(tx, id, events);
  };
  const onIncidentsChanged: IncidentsChanged = async (tx, changes) => {
    await escalator.onIncidentsChanged(tx, changes);
    for (const { incidentId, events } of changes) await scheduleAutomations(tx, incidentId, events);
  };
  const incidents = createIncidentDesk({ db, now, onIncidentChanged });
  const intake = createIntake({ db, now, onIncidentChanged, onIncidentsChanged, lockForBatch: createBatchChannelLock(catalog, storms), writer: createNotificationWriter(options.intakeDb ?? db) });
  const threads = createThreadOpener({ db, project: projector });
  const notifications = createNotificationProcessor({ db, intake, logger });
  registerNotificationQueueMetrics(options.metrics.registry, db);
  registerOutboxMetrics(options.metrics.registry, db);
  const webhook = createAlertmanagerHandler({
    intake,
    onAccepted: () => notifications.wake(),
    auth: env.ALERTMANAGER_WEBHOOK_TOKEN ? { bearerToken: env.ALERTMANAGER_WEBHOOK_TOKEN } : {},
    ...(env.ALERTMANAGER_MAX_BODY_BYTES ? { maxBodyBytes: env.ALERTMANAGER_MAX_BODY_BYTES } : {}),
    logger,
  });
  if (!webhook.authenticated) {
    logger.warn('ALERTMANAGER_WEBHOOK_TOKEN is not set: anyone who can reach POST /alertmanager can open incidents; set it and the same token in Alertmanager (http_config.authorization.credentials)');
  }
  const sender = options.slackToken
    ? createOutboxSender({
        db,
        poster: withSignedButtons(createSlackChatPoster(createSlackWebClient({ token: options.slackToken, logger: toSlackLogger(logger), ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) })), options.buttonSigner),
        logger: logger.child({ component: 'outbox' }),
        renderers: { [STORM_DIGEST]: createDigestRenderer({ db, now }) },
        minimalRenderers: { [MINIMAL_INCIDENT_PREFIX]: createMinimalIncidentRenderer(db) },
        ...(catalog.defaultRoute?.channel ? { defaultChannel: catalog.defaultRoute.channel } : {}),
        metrics: {
          onSent: (kind) => options.metrics.slackWrites.inc({ kind, result: 'sent' }),
          onFailed: (kind) => options.metrics.slackWrites.inc({ kind, result: 'failed' }),
          onRateLimited: () => options.metrics.slackWrites.inc({ kind: 'any', result: 'rate_limited' }),
        },
      })
    : undefined;
  // Silenced alerts' resolutions, and resolutions lost on the way, reach Switchboard only by asking.
  const reconciler = catalog.alertmanager
    ? createReconciler({
        db,
        alertmanagers: createAlertmanagerViews(catalog.alertmanager),
        onIncidentChanged,
        now,
        logger: logger.child({ component: 'reconcile' }),
        metrics: createReconcileMetrics(options.metrics.registry, () => reachabilities(db)),
        intervalMs: catalog.alertmanager.reconcile.interval,
        goneAfterMs: catalog.alertmanager.reconcile.goneAfter,
        instance: options.instanceId ?? 'switchboard',
      })
    : undefined;
  return { incidents, webhook, sender, threads, escalator, oncall: createOnCallOverrides(db), notifications, reconciler };
}
