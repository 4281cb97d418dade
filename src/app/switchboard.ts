import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Catalog } from '../config/catalog-schema.js';
import { SLACK_VARIABLES, slackMode, type Env } from '../config/env.js';
import { allActions } from '../commands/actions/index.js';
import type { ActionDeps } from '../commands/action.js';
import { createCatalogAuthorizer, type Authorizer } from '../commands/authorize.js';
import { createDispatcher, type Dispatcher } from '../commands/dispatch.js';
import { createRegistry, type Registry } from '../commands/registry.js';
import { createRefusalRecorder } from '../commands/record-refusal.js';
import { createButtonSigner } from '../commands/button-value.js';
import { serverKey } from '../store/server-keys-repository.js';
import { createButtonPlacement } from '../store/button-placement.js';
import { registerBackupMetrics } from '../integrations/backup/metrics.js';
import { createBackupsRepository } from '../store/backups-repository.js';
import type { Db } from '../store/db.js';
import { isMigrated, migrate, readMigrations } from '../store/migrate.js';
import { openDb } from '../store/open-store.js';
import { createPostgresDb } from '../store/postgres-db.js';
import { createRunsRepository } from '../store/runs-repository.js';
import { createHttpServer, sendJson, type Route } from './http-server.js';
import { createSlackUsergroupDirectory } from '../integrations/slack/usergroup-directory.js';
import { createConfirmationsRepository } from '../store/confirmations-repository.js';
import { buildActionDeps } from './build-action-deps.js';
import { buildAlerting } from './build-alerting.js';
import type { Escalator } from '../alerts/escalation/escalator.js';
import type { Reconciler } from '../alerts/reconcile/reconciler.js';
import { automationProblems, createAutomationRunner } from '../alerts/automation-runner.js';
import { createOutbox } from '../alerts/outbox.js';
import { createJobScheduler } from '../jobs/create-job-scheduler.js';
import { registerActionButtons } from './listeners/action-buttons.js';
import { createButtonCheck } from './listeners/button-check.js';
import { registerIncidentButtons } from './listeners/incident-buttons.js';
import { registerOpsCommand } from './listeners/ops-command.js';
import { createMetrics } from './metrics.js';
import { createSlackConnection, EVENT_BODY_LIMIT, type SlackConnection } from './slack-connection.js';
import { capBody } from './body-limit.js';
import { guardSlackReplay } from './slack-replay-guard.js';
import { createSeenRequestsRepository } from '../store/seen-requests-repository.js';
import { guardSlackTimestamp } from './slack-timestamp-guard.js';
import { startSandbox, type Sandbox } from '../sandbox/start-sandbox.js';

export interface SwitchboardOptions {
  env: Env;
  catalog: Catalog;
  logger: Logger;
  /** Overrides for tests; production builds the real ones. */
  deps?: Partial<ActionDeps>;
  /** The process environment, for adapters that read their platform's variables (in-cluster Kubernetes). */
  processEnv?: Readonly<Record<string, string | undefined>>;
  authorize?: Authorizer;
  /** The clock of incidents, escalation and reconciliation; tests inject one. */
  now?: () => Date;
}

export interface Switchboard {
  url: string;
  port: number;
  db: Db;
  registry: Registry;
  dispatcher: Dispatcher;
  slack: SlackConnection | undefined;
  /** Alertmanager reconciliation, when the catalog names an Alertmanager (tests call its tickNow). */
  reconciler: Reconciler | undefined;
  /** The escalation ticker (tests call its tickNow). */
  escalator: Escalator;
  /** Without Slack: the sandbox page's URL, with its token (what the start log prints). */
  sandboxUrl?: string;
  /** Stops accepting, lets runs in flight finish within `graceMs`, then closes the store. */
  stop(graceMs?: number): Promise<void>;
}

const SLACK_SETUP_HINT =
  'Slack is not connected: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode), or SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode). README.md → "Create the Slack app" shows where to find them.';

/** Builds and starts one Switchboard instance: store, actions, Slack, and the HTTP routes. */
export async function startSwitchboard(options: SwitchboardOptions): Promise<Switchboard> {
  const { catalog, logger } = options;
  let env = options.env;
  const db = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: env.SWITCHBOARD_DATA_DIR });
  // Alertmanager's deliveries get connections of their own: however busy the background work
  // keeps the main pool, a webhook never waits for a connection to be stored.
  const intakeDb = env.DATABASE_URL ? createPostgresDb(env.DATABASE_URL, { max: 2, applicationName: 'switchboard-intake' }) : db;
  let started = false;
  let sandbox: Sandbox | undefined;
  try {
    const migrations = await readMigrations();
    const applied = await migrate(db, migrations);
    logger.info({ store: db.kind, applied }, applied.length ? 'store migrated' : 'store up to date');

    const metrics = createMetrics();
    const registry = createRegistry(allActions);
    // Without Slack credentials, the bot runs in HTTP mode against the sandbox's in-process fake Slack.
    if (slackMode(env).kind === 'offline') {
      // The sandbox signs requests as anyone; it must never start where Slack was meant to be.
      const set = SLACK_VARIABLES.filter((name) => env[name] !== undefined);
      if (set.length > 0) throw new Error(`${set.join(', ')} set without SLACK_BOT_TOKEN: set the bot token too, or unset them to start the sandbox`);
      env = (sandbox = await startSandbox({ catalog })).env(env);
    }
    const mode = slackMode(env);
    const slack = mode.kind === 'offline' ? undefined : createSlackConnection(mode, logger);
    const usergroups = slack ? createSlackUsergroupDirectory(slack.app.client) : undefined;
    if (Object.keys(catalog.roles).length === 0) logger.warn('the catalog has no roles: everyone in the workspace may run every action');
    const backups = createBackupsRepository(db);
    registerBackupMetrics(metrics.registry, () => backups.latestPerTarget());
    const instanceId = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
    // Button values are signed with a key of Switchboard's own, generated once and shared through the store.
    const buttonSigner = createButtonSigner(await serverKey(db, 'button'));
    const alerting = buildAlerting({
      db,
      intakeDb,
      env,
      catalog,
      registry,
      logger,
      metrics,
      buttonSigner,
      slackToken: mode.kind === 'offline' ? undefined : mode.botToken,
      instanceId,
      ...(options.now ? { now: options.now } : {}),
    });
    const deps: ActionDeps = { ...buildActionDeps({ catalog, backups, incidents: alerting.incidents, oncall: alerting.oncall, env: options.processEnv ?? {} }), ...options.deps };
    const runs = createRunsRepository(db);
    const dispatcher = createDispatcher({
      registry,
      deps,
      runs,
      authorize: options.authorize ?? createCatalogAuthorizer(catalog, usergroups),
      logger,
      newId: randomUUID,
      newRef: () => randomBytes(4).toString('hex'),
      onRunEnd: (action, status) => metrics.runs.inc({ action: action.id, status }),
    });
    for (const problem of automationProblems(catalog, registry)) logger.warn(`automation cannot run: ${problem}`);
    const automations = createAutomationRunner({ db, catalog, registry, dispatcher, incidents: alerting.incidents, logger });
    const jobs = createJobScheduler({ db, catalog, dispatcher, outbox: createOutbox(), logger: logger.child({ component: 'jobs' }), instanceId });

    if (slack) {
      const recordRefusal = createRefusalRecorder({ runs, logger, newId: randomUUID, newRef: () => randomBytes(4).toString('hex') });
      registerOpsCommand(slack.app, { registry, catalog, actionDeps: deps, dispatcher, confirmations: createConfirmationsRepository(db), recordRefusal, logger });
      const checkButton = createButtonCheck({ signer: buttonSigner, placement: createButtonPlacement(db), recordRefusal, logger });
      registerActionButtons(slack.app, { registry, dispatcher, incidents: alerting.incidents, recordRefusal, checkButton, logger });
      registerIncidentButtons(slack.app, { dispatcher, recordRefusal, checkButton, logger, threads: alerting.threads });
    } else {
      logger.warn(SLACK_SETUP_HINT);
    }

    const routes: Route[] = [
      { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'alive' }) },
      {
        method: 'GET',
        path: '/readyz',
        handler: async (_req, res) => {
          const ready = await isMigrated(db, migrations.length).catch((error: unknown) => {
            logger.warn({ err: error }, 'readiness check: store unreachable');
            return false;
          });
          sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'store unreachable or not migrated', store: db.kind });
        },
      },
      {
        method: 'GET',
        path: '/metrics',
        handler: async (_req, res) => {
          const body = await metrics.registry.metrics();
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        },
      },
    ];
    routes.push({ method: 'POST', path: '/alertmanager', handler: alerting.webhook });
    if (slack?.eventsHandler && mode.kind === 'http') {
      // Outermost first: the size (before a byte is read), the timestamp, a replay; then Bolt verifies the signature.
      const replayGuarded = guardSlackReplay(slack.eventsHandler, { signingSecret: mode.signingSecret, seen: createSeenRequestsRepository(db), logger, bodyLimit: EVENT_BODY_LIMIT });
      routes.push({ method: 'POST', path: '/slack/events', handler: capBody(guardSlackTimestamp(replayGuarded), EVENT_BODY_LIMIT) });
    }
    if (sandbox) routes.push(...sandbox.routes(() => `http://127.0.0.1:${port}`));

    const server = createHttpServer({ routes, metrics, logger });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, '0.0.0.0', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    await slack?.start().catch((error: unknown) => {
      // Slack refused us (a bad app token): stop listening too, so nothing half-started is left.
      server.close();
      throw error;
    });
    alerting.notifications.start();
    alerting.sender?.start();
    alerting.escalator.start();
    alerting.reconciler?.start();
    automations.start();
    jobs.start();
    started = true;
    if (sandbox) logger.warn(`${SLACK_SETUP_HINT} Meanwhile the sandbox at ${sandbox.pageUrl(port)} shows what Switchboard would post, with working buttons and /ops (open it on this machine; the token in the URL is its key).`);
    logger.info({ port, slack: sandbox ? 'sandbox' : mode.kind, store: db.kind, services: Object.keys(catalog.services).length }, `Switchboard listening on port ${port}`);

    let stopping: Promise<void> | undefined;
    const stop = (graceMs = 10_000) =>
      (stopping ??= (async () => {
        logger.info({ graceMs }, 'shutting down: no new requests, finishing runs in flight');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await slack?.stop().catch((error: unknown) => logger.warn({ err: error }, 'Slack connection did not close cleanly'));
        // Claims stop first; drain then aborts automatic runs still under way with the others.
        const automationsStopped = automations.stop();
        const jobsStopped = jobs.stop(graceMs);
        await dispatcher.drain(graceMs);
        await automationsStopped;
        await jobsStopped;
        await alerting.notifications.stop();
        await alerting.reconciler?.stop();
        await alerting.escalator.stop();
        await alerting.sender?.stop();
        server.closeAllConnections();
        await closed;
        await sandbox?.close();
        if (intakeDb !== db) await intakeDb.close();
        await db.close();
        logger.info('stopped');
      })());

    return {
      url: `http://127.0.0.1:${port}`,
      port,
      db,
      registry,
      dispatcher,
      slack,
      reconciler: alerting.reconciler,
      escalator: alerting.escalator,
      ...(sandbox ? { sandboxUrl: sandbox.pageUrl(port) } : {}),
      stop,
    };
  } finally {
    if (!started) {
      await Promise.all([db.close().catch(() => undefined), intakeDb === db ? undefined : intakeDb.close().catch(() => undefined), sandbox?.close().catch(() => undefined)]);
    }
  }
}
