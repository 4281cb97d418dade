import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.js';
import { createOutboxRepository, type OutboxJob, type OutboxPayload, type OutboxRenderers } from '../../store/outbox-repository.js';
import { toChatPostFailure, type ChatPoster } from './chat-poster.js';
import { slackErrorHint } from './slack-error-hints.js';
import { ownValue } from '../../config/own.js';

export type OutboxKind = 'post' | 'update' | 'reply' | 'dm';

/** Counters for /metrics; each is called once per outcome. */
export interface OutboxSenderMetrics {
  onSent?(kind: OutboxKind): void;
  onRateLimited?(channel: string): void;
  onFailed?(kind: OutboxKind, code: string): void;
}

export interface OutboxSenderOptions {
  db: Db;
  poster: ChatPoster;
  logger: Logger;
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** How often to look for new rows when nothing is scheduled sooner; default 250 ms. */
  pollMs?: number;
  /** Slack allows about one chat.postMessage per second per channel; the gap between Slack's answer and the next post. Default 1100 ms. */
  perChannelIntervalMs?: number;
  /** At most one chat.update per message this often; renders in between coalesce. Default 3000 ms. */
  updateIntervalMs?: number;
  /** Transient failures (5xx, network) before a row fails; default 25 (about 20 minutes with the 60 s cap). */
  maxAttempts?: number;
  /** First retry delay after a transient failure, doubled each time up to `backoffCapMs` (60 s); jittered. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long a claimed row and its channel stay reserved for the instance sending it; default 60 s. */
  leaseMs?: number;
  /** Slack calls in flight at once, across channels; default 16. */
  concurrency?: number;
  random?: () => number;
  metrics?: OutboxSenderMetrics;
  /** Render edits queued with `renderAtSend` (the storm digest). */
  renderers?: OutboxRenderers;
}

export interface OutboxSender {
  /** Drains the outbox in the background until stop(). */
  start(): void;
  /** Stops claiming, and resolves once the calls in flight are finished and recorded. */
  stop(): Promise<void>;
  /** One claim and its Slack calls, awaited; returns how many rows it handled (for tests). */
  drainOnce(): Promise<number>;
}

type PostJob = Extract<OutboxJob, { type: 'post' }>;
type Outcome = { type: 'posted'; channel: string; ts: string } | { type: 'updated' } | { type: 'opened'; channel: string };

// Node timers may fire a millisecond before the clock reaches their time.
const TIMER_SLACK_MS = 3;
const RECORD_RETRIES_MS = [200, 1_000, 5_000];

const kindOf = (job: OutboxJob): OutboxKind => (job.type === 'post' ? job.kind : job.type === 'update' ? 'update' : 'dm');
// Blocks were Block Kit when enqueued (the port's type); the store keeps them as plain JSON.
const blocksOf = (payload: OutboxPayload) => payload.blocks as KnownBlock[] | undefined;

/**
 * Sends the outbox to Slack: per channel in order (priority, then id) at about one post per second,
 * edits coalesced to the latest render, Retry-After honoured per channel, transient failures
 * retried with backoff, permanent ones recorded as failed with a hint for the operator. Several
 * instances may run on one database; row claims and channel locks keep each row to one sender.
 */
export function createOutboxSender(options: OutboxSenderOptions): OutboxSender {
  const { poster, logger } = options;
  const repo = createOutboxRepository(options.db);
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 250;
  const perChannelIntervalMs = options.perChannelIntervalMs ?? 1_100;
  const updateIntervalMs = options.updateIntervalMs ?? 3_000;
  const maxAttempts = options.maxAttempts ?? 25;
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const backoffCapMs = options.backoffCapMs ?? 60_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const concurrency = options.concurrency ?? 16;
  const random = options.random ?? Math.random;
  const metrics = options.metrics ?? {};
  const renderers = options.renderers ?? {};

  const inFlight = new Set<Promise<void>>();
  let wakeTimes: number[] = [];
  let sleeper: { until: number; timer: NodeJS.Timeout; done: () => void } | undefined;
  let running = false;
  let loop: Promise<void> | undefined;

  /** Sleeps `ms`, or less when a channel or message becomes free sooner. */
  function sleep(ms: number): Promise<void> {
    const t = now();
    wakeTimes = wakeTimes.filter((w) => w > t);
    const until = Math.min(t + ms, ...wakeTimes);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(sleeper?.timer);
        sleeper = undefined;
        resolve();
      };
      sleeper = { until, timer: setTimeout(done, Math.max(0, until - t)), done };
    });
  }

  function wakeAt(at: number): void {
    if (!running) return;
    const when = at + TIMER_SLACK_MS;
    wakeTimes.push(when);
    if (sleeper && when < sleeper.until) {
      clearTimeout(sleeper.timer);
      sleeper.until = when;
      sleeper.timer = setTimeout(sleeper.done, Math.max(0, when - now()));
    }
  }

  const backoff = (attempts: number): number => {
    const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };

  function renderAtSend(messageKey: string, name: string): Promise<OutboxPayload> {
    const render = ownValue(renderers, name);
    if (!render) throw new Error(`outbox: no renderer "${name}" for ${messageKey}; this sender was built without it`);
    return render(messageKey);
  }

  const lookupRefusals = new Set<string>();

  /**
   * The ts of an in-doubt post if Slack has it. Slack refusing the lookup itself (a missing
   * history scope) must not hold the post back forever: it is logged once and the post is made.
   */
  async function findInDoubt(job: PostJob, messageKey: string, since: Date): Promise<string | undefined> {
    if (job.channel.startsWith('#')) {
      // History takes ids only; a name's id is learnt from the first answer to a post there.
      logger.warn({ outboxJob: describe(job) }, `outbox: a post to ${job.channel} whose outcome was lost cannot be looked up before Slack has told the channel's id; posting it, which may post it twice (route to the channel id to avoid this)`);
      return undefined;
    }
    try {
      const ts = await poster.findPosted({ channel: job.channel, messageKey, since });
      if (ts) logger.warn({ outboxJob: describe(job), ts }, 'outbox: a post whose outcome was lost is already in Slack; recorded it instead of posting it again');
      return ts;
    } catch (error) {
      const failure = toChatPostFailure(error);
      if (failure.kind !== 'permanent') throw error;
      if (!lookupRefusals.has(failure.code)) {
        lookupRefusals.add(failure.code);
        logger.warn(
          { outboxJob: describe(job), code: failure.code, hint: slackErrorHint(failure.code, job.channel) },
          `outbox: could not look in ${job.channel}'s history for a post whose outcome was lost (${failure.code}); posting it, which may post it twice. Give the app the channels:history and groups:history scopes and reinstall it`,
        );
      }
      return undefined;
    }
  }

  /** `posting` is set once the call that may change Slack is made (not a lookup before it). */
  async function call(job: OutboxJob, attempt: { posting: boolean }): Promise<Outcome> {
    switch (job.type) {
      case 'post': {
        if (job.inDoubtSince && job.messageKey) {
          const ts = await findInDoubt(job, job.messageKey, job.inDoubtSince);
          if (ts) return { type: 'posted', channel: job.channel, ts };
        }
        const blocks = blocksOf(job.payload);
        attempt.posting = true;
        const posted = await poster.postMessage({
          channel: job.channel,
          text: job.payload.text,
          ...(blocks ? { blocks } : {}),
          ...(job.threadTs ? { thread_ts: job.threadTs } : {}),
          ...(job.messageKey ? { messageKey: job.messageKey } : {}),
        });
        return { type: 'posted', ...posted };
      }
      case 'update': {
        const payload = 'renderAtSend' in job.payload ? await renderAtSend(job.messageKey, job.payload.renderAtSend) : job.payload;
        const blocks = blocksOf(payload);
        await poster.update({ channel: job.channel, ts: job.ts, text: payload.text, ...(blocks ? { blocks } : {}) });
        return { type: 'updated' };
      }
      case 'open':
        return { type: 'opened', channel: await poster.openDm(job.userId) };
    }
  }

  // Intervals count from Slack's answer: the request reached Slack at the latest then, so the next
  // one cannot arrive too soon however long this one was underway.
  async function record(job: OutboxJob, outcome: Outcome): Promise<void> {
    const t = now();
    if (job.type === 'post' && outcome.type === 'posted') {
      const nextPostAt = t + perChannelIntervalMs;
      await repo.posted(job, outcome, { now: new Date(t), nextPostAt: new Date(nextPostAt) });
      metrics.onSent?.(job.kind);
      wakeAt(nextPostAt);
    } else if (job.type === 'update') {
      const nextUpdateAt = t + updateIntervalMs;
      const sent = await repo.updated(job, { now: new Date(t), nextUpdateAt: new Date(nextUpdateAt) });
      if (sent) metrics.onSent?.('update');
      wakeAt(nextUpdateAt);
    } else if (job.type === 'open' && outcome.type === 'opened') {
      await repo.dmOpened(job, outcome.channel, new Date(t));
      wakeAt(t);
    }
  }

  /** Slack has done the call: losing that fact could post twice, so the write is retried. */
  async function recordWithRetries(job: OutboxJob, outcome: Outcome): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await record(job, outcome);
        return;
      } catch (error) {
        const delay = RECORD_RETRIES_MS[attempt];
        if (delay === undefined) {
          logger.error({ err: error, outboxJob: describe(job) }, 'outbox: Slack accepted a message but the store did not record it; it may be sent again when its lease ends');
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async function giveUp(job: OutboxJob, code: string, error: string): Promise<void> {
    const t = now();
    const nextAt = t + (job.type === 'update' ? updateIntervalMs : perChannelIntervalMs);
    const { dependents } = await repo.fail(job, { now: new Date(t), error, nextAt: new Date(nextAt) });
    metrics.onFailed?.(kindOf(job), code);
    wakeAt(nextAt);
    const channel = job.type === 'open' ? undefined : job.channel;
    logger.error(
      { outboxJob: describe(job), code, error, hint: slackErrorHint(code, channel), dependentsFailed: dependents },
      `outbox: gave up on a Slack ${kindOf(job)}${channel ? ` to ${channel}` : ''}: ${code}`,
    );
  }

  async function settleFailure(job: OutboxJob, error: unknown, posting: boolean): Promise<void> {
    const failure = toChatPostFailure(error);
    const t = now();
    // Slack answered the post with an error: it was not made. Without an answer it may have been.
    const notPosted = posting && !(failure.kind === 'transient' && failure.unanswered);
    switch (failure.kind) {
      case 'rate_limited': {
        // Slack's limit is per channel (and method); other channels keep flowing.
        const notBefore = t + failure.retryAfterMs;
        await repo.retry(job, { notBefore: new Date(notBefore), countAttempt: false, error: `rate limited for ${failure.retryAfterMs} ms`, notPosted });
        const target = job.type === 'open' ? `user:${job.userId}` : job.channel;
        metrics.onRateLimited?.(target);
        logger.warn({ outboxJob: describe(job), retryAfterMs: failure.retryAfterMs }, `outbox: Slack rate limited ${target}; waiting as told`);
        wakeAt(notBefore);
        return;
      }
      case 'transient': {
        const attempts = job.attempts + 1;
        if (attempts >= maxAttempts) return giveUp(job, 'transient', `gave up after ${attempts} attempts: ${failure.detail}`);
        const delay = backoff(attempts);
        await repo.retry(job, { notBefore: new Date(t + delay), countAttempt: true, error: failure.detail, notPosted });
        logger.warn({ outboxJob: describe(job), attempts, retryInMs: delay, detail: failure.detail }, 'outbox: Slack call failed; will retry');
        wakeAt(t + delay);
        return;
      }
      case 'permanent':
        return giveUp(job, failure.code, failure.detail ? `${failure.code}: ${failure.detail}` : failure.code);
    }
  }

  async function execute(job: OutboxJob): Promise<void> {
    let outcome: Outcome;
    const attempt = { posting: false };
    try {
      outcome = await call(job, attempt);
    } catch (error) {
      // If this write fails too the lease runs out and the row is simply tried again.
      await settleFailure(job, error, attempt.posting).catch((err: unknown) => logger.error({ err, outboxJob: describe(job) }, 'outbox: could not record a failed Slack call'));
      return;
    }
    await recordWithRetries(job, outcome);
  }

  async function claimAndDispatch(): Promise<{ count: number; runs: Promise<void>[] }> {
    const free = concurrency - inFlight.size;
    if (free <= 0) return { count: 0, runs: [] };
    const { jobs, skipped } = await repo.claim({ now: new Date(now()), leaseMs, limit: free });
    if (skipped) logger.info({ skipped }, 'outbox: skipped posts of messages already in Slack');
    const runs = jobs.map((job) => {
      const run = execute(job);
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
      return run;
    });
    return { count: jobs.length + skipped, runs };
  }

  async function runLoop(): Promise<void> {
    while (running) {
      try {
        await claimAndDispatch();
      } catch (error) {
        logger.error({ err: error }, 'outbox: could not claim rows from the store; trying again');
        await sleep(Math.max(pollMs, 1_000));
      }
      if (running) await sleep(pollMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = runLoop();
    },
    async stop() {
      running = false;
      sleeper?.done();
      await loop;
      loop = undefined;
      await Promise.all([...inFlight]);
    },
    async drainOnce() {
      const { count, runs } = await claimAndDispatch();
      await Promise.all(runs);
      return count;
    },
  };
}

function describe(job: OutboxJob): Record<string, unknown> {
  if (job.type === 'open') return { kind: 'dm', ids: job.ids, userId: job.userId };
  return { kind: job.type === 'post' ? job.kind : 'update', id: job.id, channel: job.channel, ...(job.messageKey ? { messageKey: job.messageKey } : {}) };
}
