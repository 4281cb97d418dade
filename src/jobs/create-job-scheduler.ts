import { randomBytes } from 'node:crypto';
import { createTask, type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { OutboxWriter } from '../alerts/outbox-port.js';
import type { Dispatcher } from '../commands/dispatch.js';
import type { Catalog } from '../config/catalog-schema.js';
import { createHealthChecker, type HealthChecker } from '../integrations/health/index.js';
import type { Db } from '../store/db.js';
import { overdueEscalationSteps, type OverdueEscalationsQuery } from './escalation-audit-job.js';
import type { JobContext, JobDefinition, JobOutcome } from './job.js';
import { createJobRunsRepository } from './job-runs-repository.js';
import { slotOf } from './job-slot.js';
import { planJobs } from './plan-jobs.js';

export interface JobSchedulerOptions {
  db: Db;
  catalog: Catalog;
  dispatcher: Dispatcher;
  outbox: OutboxWriter;
  logger: Logger;
  now?: () => Date;
  /** Names this instance in `job_runs.claimed_by`; unique per process. */
  instanceId: string;
  /** For the certificate check; default: the real health checker. */
  health?: HealthChecker;
  /** What the escalation audit reads; default: the escalation store's `escalations` table. */
  overdueEscalations?: OverdueEscalationsQuery;
}

/** How one slot of one job went on this instance: `taken` means another instance claimed it. */
export interface JobRunResult {
  job: string;
  slot: Date;
  status: 'succeeded' | 'failed' | 'skipped' | 'taken';
  summary: string;
}

export interface JobScheduler {
  /** The jobs this catalog schedules. */
  readonly jobs: ReadonlyArray<Pick<JobDefinition, 'name' | 'title' | 'schedule' | 'timezone'>>;
  /** Starts firing on schedule; call once the instance serves requests. */
  start(): void;
  /** Stops firing, waits up to `graceMs` for jobs in flight, then aborts what is left. */
  stop(graceMs?: number): Promise<void>;
  /** Claims and runs one slot of a job now, as the schedule would (tests and operators). */
  runNow(job: string, slot: Date): Promise<JobRunResult>;
}

// node-cron skips a run whose timer fires later than this; a busy event loop should delay, not drop.
const MISSED_TOLERANCE_MS = 30_000;

const messageKey = (job: string, slot: Date) => `job:${job}:${slot.toISOString()}`;

/**
 * Schedules the catalog's jobs with node-cron. Every instance fires; each slot is claimed in
 * `job_runs`, so one instance runs it and a slot whose previous run is still going is recorded
 * as skipped. A job's Slack message is enqueued in the outbox with its end, in one transaction.
 */
export function createJobScheduler(options: JobSchedulerOptions): JobScheduler {
  const { db, catalog, dispatcher, outbox, logger, instanceId } = options;
  const now = options.now ?? (() => new Date());
  const repo = createJobRunsRepository(db);
  const { jobs, notes } = planJobs(catalog, { health: options.health ?? createHealthChecker(), overdueEscalations: options.overdueEscalations ?? overdueEscalationSteps });
  const byName = new Map(jobs.map((job) => [job.name, job]));
  const tasks: ScheduledTask[] = [];
  const inFlight = new Map<Promise<unknown>, AbortController>();
  let started = false;

  async function runSlot(job: JobDefinition, slot: Date): Promise<JobRunResult> {
    const log = logger.child({ job: job.name, slot: slot.toISOString() });
    const claimedAt = now();
    const claim = await repo.claim({ job: job.name, slot, instanceId, now: claimedAt, deadlineAt: new Date(claimedAt.getTime() + job.maxDurationMs) });
    if (!claim.claimed) {
      if (claim.reason === 'taken') {
        log.debug('slot claimed by another instance');
        return { job: job.name, slot, status: 'taken', summary: 'claimed by another instance' };
      }
      const since = claim.running ? ` (running since ${claim.running.startedAt.toISOString()} on ${claim.running.claimedBy})` : '';
      log.warn(`${job.title}: skipped this slot, the previous run is still going${since}`);
      return { job: job.name, slot, status: 'skipped', summary: 'the previous run was still running' };
    }

    const controller = new AbortController();
    const ctx: JobContext = { slot, catalog, dispatcher, db, logger: log, now, signal: controller.signal, previous: () => repo.lastSucceeded(job.name) };
    const work = job.run(ctx).catch((error: unknown): JobOutcome => {
      const ref = randomBytes(4).toString('hex');
      log.error({ err: error, ref }, `${job.title} failed unexpectedly`);
      const text = `✗ The scheduled ${job.title} failed unexpectedly (ref \`${ref}\`). The details are in Switchboard's log under that ref.`;
      return { ok: false, summary: `unexpected error (ref ${ref}): ${error instanceof Error ? error.message : String(error)}`, ...(job.channel ? { post: { channel: job.channel, text } } : {}) };
    });
    inFlight.set(work, controller);
    let outcome: JobOutcome;
    try {
      outcome = await work;
    } finally {
      inFlight.delete(work);
    }

    const summary = outcome.post || job.channel || job.postsNothing ? outcome.summary : `${outcome.summary}; not posted: no channel`;
    const post = outcome.post;
    await db.transaction(async (tx) => {
      if (post) {
        await outbox.enqueue(tx, { kind: 'post', channel: post.channel, messageKey: messageKey(job.name, slot), priority: post.priority ?? 'routine', text: post.text, ...(post.blocks ? { blocks: post.blocks } : {}) });
      }
      await repo.finish(tx, job.name, slot, instanceId, {
        status: outcome.ok ? 'succeeded' : 'failed',
        finishedAt: now(),
        summary,
        ...(outcome.runRef ? { runRef: outcome.runRef } : {}),
        ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      });
    });
    log[outcome.ok ? 'info' : 'warn']({ ok: outcome.ok, ref: outcome.runRef }, `${job.title}: ${summary}`);
    return { job: job.name, slot, status: outcome.ok ? 'succeeded' : 'failed', summary };
  }

  const fire = (job: JobDefinition, scheduledAt: Date): Promise<void> =>
    runSlot(job, slotOf(scheduledAt)).then(
      () => undefined,
      (error: unknown) => logger.error({ err: error, job: job.name, slot: slotOf(scheduledAt).toISOString() }, `${job.title}: could not claim or record this slot; the store may be down`),
    );

  const cronLogger: CronLogger = {
    info: (message) => logger.debug({ component: 'node-cron' }, message),
    warn: (message) => logger.warn({ component: 'node-cron' }, message),
    error: (message, err) => logger.error({ component: 'node-cron', err: err ?? message }, typeof message === 'string' ? message : message.message),
    debug: (message) => logger.debug({ component: 'node-cron' }, typeof message === 'string' ? message : message.message),
  };

  return {
    jobs: jobs.map(({ name, title, schedule, timezone }) => ({ name, title, schedule, timezone })),

    start() {
      if (started) return;
      started = true;
      for (const note of notes) logger.warn(note);
      for (const job of jobs) {
        try {
          const task = createTask(job.schedule, (context) => fire(job, context.date), {
            name: `switchboard:${job.name}`,
            timezone: job.timezone,
            missedExecutionTolerance: MISSED_TOLERANCE_MS,
            unref: true,
            logger: cronLogger,
          });
          task.on('execution:missed', (context) => logger.warn({ job: job.name, slot: context.date.toISOString() }, `${job.title}: missed a slot (the process was blocked or asleep)`));
          void task.start();
          tasks.push(task);
          logger.info({ job: job.name, schedule: job.schedule, timezone: job.timezone, next: task.getNextRun()?.toISOString() }, `scheduled ${job.title}`);
        } catch (error) {
          logger.error({ err: error, job: job.name, schedule: job.schedule }, `${job.title} is not scheduled: node-cron refused "${job.schedule}"`);
        }
      }
    },

    async stop(graceMs = 10_000) {
      for (const task of tasks.splice(0)) await task.destroy();
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.allSettled([...inFlight.keys()]), expired]);
      clearTimeout(timer);
      for (const controller of inFlight.values()) controller.abort(new Error('shutting down'));
    },

    async runNow(name, slot) {
      const job = byName.get(name);
      if (!job) throw new Error(`no scheduled job "${name}" (known: ${[...byName.keys()].join(', ') || 'none'})`);
      return runSlot(job, slotOf(slot));
    },
  };
}
