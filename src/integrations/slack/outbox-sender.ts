import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.js';
import { createOutboxRepository, type OutboxJob, type OutboxPayload, type OutboxRenderers } from '../../store/outbox-repository.js';
import { ChatPostError, toChatPostFailure, type ChatPoster } from './chat-poster.js';
import { createMethodGate, SLACK_METHOD_TIERS, type MethodTiers } from './method-gate.js';
import { minimalPayload, permanentKind, type MinimalRenderers } from './minimal-payload.js';
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
  /**
   * First retry delay after a transient failure (5xx, network), doubled each time up to
   * `backoffCapMs` (5 s), jittered. Transient failures are retried until Slack takes the write;
   * the first call Slack answers again wakes every write waiting out its backoff.
   */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Where a post goes that Slack refuses in its own channel, and where that channel is reported once. */
  defaultChannel?: string;
  /** Minimal forms (plain text) of keyed messages by key prefix (`incident:`), for a write Slack refuses. */
  minimalRenderers?: MinimalRenderers;
  /** Per-method limits (Slack's tiers); default `SLACK_METHOD_TIERS`. */
  tiers?: MethodTiers;
  /** Wake the writes waiting out a backoff when Slack answers again (and probe for it); default true. Off only as a benchmark's baseline. */
  wakeOnRecovery?: boolean;
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
/**
 * While Slack fails, calls of tiered methods (lookups, edits, conversations.open) would only spend
 * the tier that recovery needs: they wait their backoff without a call, and are woken with the rest
 * when Slack answers again (see probe()). Posts, paced per channel, keep trying.
 */
const waitingOutOutage = () => new ChatPostError({ kind: 'transient', detail: 'Slack is failing; this call waits until it answers again' });

/** `found`: an in-doubt post found in Slack rather than posted now. */
type Outcome = { type: 'posted'; channel: string; ts: string; found: boolean } | { type: 'updated' } | { type: 'opened'; channel: string };

// Node timers may fire a millisecond before the clock reaches their time.
const TIMER_SLACK_MS = 3;
const RECORD_RETRIES_MS = [200, 1_000, 5_000];
// While Slack fails, how often to ask it (api.test) whether it answers again.
const PROBE_EVERY_MS = 1_000;

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
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const backoffCapMs = options.backoffCapMs ?? 5_000;
  const gate = createMethodGate(options.tiers ?? SLACK_METHOD_TIERS, now);
  // Set by a transient failure, cleared by the next call Slack answers (which wakes the waiting rows).
  let outage = false;
  let lastProbe = 0;
  const wakeOnRecovery = options.wakeOnRecovery ?? true;
  const leaseMs = options.leaseMs ?? 60_000;
  const concurrency = options.concurrency ?? 16;
  const random = options.random ?? Math.random;
  const metrics = options.metrics ?? {};
  const renderers = options.renderers ?? {};
  const minimalRenderers = options.minimalRenderers ?? {};
  const defaultChannel = options.defaultChannel;

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
   * The ts of an in-doubt post if Slack has it: a top-level post or DM in its channel's history, a
   * reply in its thread, found by the key in its metadata. Slack refusing the lookup itself (a
   * missing history scope) must not hold the post back forever: it is logged once and the post is made.
   */
  async function findInDoubt(job: PostJob, since: Date): Promise<string | undefined> {
    if (job.channel.startsWith('#')) {
      // History takes ids only; a name's id is learnt from the first answer to a post there.
      logger.warn({ outboxJob: describe(job) }, `outbox: a post to ${job.channel} whose outcome was lost cannot be looked up before Slack has told the channel's id; posting it, which may post it twice (route to the channel id to avoid this)`);
      return undefined;
    }
    const method = job.threadTs ? 'conversations.replies' : 'conversations.history';
    if (outage) throw waitingOutOutage();
    // At the method's tier: wait as for a 429 rather than hold the job (and its lease) here.
    const freeAt = gate.nextFreeAt(method);
    if (freeAt > now()) throw new ChatPostError({ kind: 'rate_limited', retryAfterMs: freeAt - now() });
    const answered = gate.take(method);
    try {
      const ts = await poster.findPosted({ channel: job.channel, messageKey: job.lookupKey, since, ...(job.threadTs ? { threadTs: job.threadTs } : {}) }).finally(answered);
      if (ts) logger.warn({ outboxJob: describe(job), ts }, `outbox: a ${job.kind} whose outcome was lost is already in Slack; recorded it instead of sending it again`);
      return ts;
    } catch (error) {
      const failure = toChatPostFailure(error);
      if (failure.kind !== 'permanent') throw error;
      if (!lookupRefusals.has(failure.code)) {
        lookupRefusals.add(failure.code);
        logger.warn(
          { outboxJob: describe(job), code: failure.code, hint: slackErrorHint(failure.code, job.channel) },
          `outbox: could not look in ${job.channel}'s history for a ${job.kind} whose outcome was lost (${failure.code}); sending it, which may send it twice. Give the app the channels:history, groups:history and im:history scopes and reinstall it`,
        );
      }
      return undefined;
    }
  }

  /** `posting` is set once the call that may change Slack is made (not a lookup before it). */
  async function call(job: OutboxJob, attempt: { posting: boolean }): Promise<Outcome> {
    switch (job.type) {
      case 'post': {
        if (job.inDoubtSince) {
          const ts = await findInDoubt(job, job.inDoubtSince);
          // What Slack has is the earlier attempt's render: a folded edit must still be sent.
          if (ts) return { type: 'posted', channel: job.channel, ts, found: true };
        }
        const blocks = blocksOf(job.payload);
        attempt.posting = true;
        const posted = await poster.postMessage({
          channel: job.channel,
          text: job.payload.text,
          ...(blocks ? { blocks } : {}),
          ...(job.threadTs ? { thread_ts: job.threadTs } : {}),
          messageKey: job.lookupKey,
        });
        return { type: 'posted', ...posted, found: false };
      }
      case 'update': {
        if (outage) throw waitingOutOutage();
        const payload = 'renderAtSend' in job.payload && !job.degraded ? await renderAtSend(job.messageKey, job.payload.renderAtSend) : (job.payload as OutboxPayload);
        const blocks = blocksOf(payload);
        const answered = gate.take('chat.update');
        await poster.update({ channel: job.channel, ts: job.ts, text: payload.text, ...(blocks ? { blocks } : {}) }).finally(answered);
        return { type: 'updated' };
      }
      case 'open': {
        if (outage) throw waitingOutOutage();
        const answered = gate.take('conversations.open');
        return { type: 'opened', channel: await poster.openDm(job.userId).finally(answered) };
      }
    }
  }

  /** Slack answered a call again after transient failures: the writes waiting out backoff go now. */
  async function endOutage(): Promise<void> {
    if (!outage) return;
    outage = false;
    const woken = await repo.wakeTransient(new Date(now()));
    if (woken > 0) logger.info({ woken }, 'outbox: Slack answers again; sending the writes that waited');
    wakeAt(now());
  }

  // Intervals count from Slack's answer: the request reached Slack at the latest then, so the next
  // one cannot arrive too soon however long this one was underway.
  async function record(job: OutboxJob, outcome: Outcome): Promise<void> {
    const t = now();
    if (job.type === 'post' && outcome.type === 'posted') {
      const nextPostAt = t + perChannelIntervalMs;
      const { foldedEdit, ...unfolded } = job;
      await repo.posted(outcome.found || !foldedEdit ? unfolded : job, outcome, { now: new Date(t), nextPostAt: new Date(nextPostAt) });
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
    await endOutage();
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
          logger.error({ err: error, outboxJob: describe(job) }, 'outbox: Slack accepted a message but the store did not record it; it will be looked up in Slack when its lease ends');
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

  /** The one-time report, in the default channel, of a channel the bot cannot post in. */
  function channelReport(channel: string, code: string, t: number) {
    if (!defaultChannel || channel === defaultChannel) return undefined;
    const hint = slackErrorHint(code, channel) ?? `check the route's channel ${channel}`;
    const text = `⚠️ Switchboard cannot post in <#${channel}> (Slack says \`${code}\`). To fix it: ${hint}. Until then, incidents routed there are posted here.`;
    return { channel, code, post: { kind: 'post' as const, channel: defaultChannel, messageKey: `channel-problem:${channel}:${t}`, priority: 0 as const, payload: { text } } };
  }

  /**
   * Slack refused the write for good. A refused message is sent again in its minimal form (plain
   * text); a post refused in its channel moves to the default channel, and the channel is reported
   * there once. What cannot be saved fails, with its dependents, and says how to fix it.
   */
  async function settlePermanent(job: OutboxJob, code: string, error: string): Promise<void> {
    if (job.type === 'open') return giveUp(job, code, error);
    const t = now();
    const kind = permanentKind(code);
    if (kind === 'content' && !job.degraded?.startsWith('minimal')) {
      const key = job.type === 'update' ? job.messageKey : job.messageKey;
      const payload = await minimalPayload(minimalRenderers, key, 'renderAtSend' in job.payload ? { text: '' } : job.payload, job.type === 'update');
      await repo.degrade(job, { now: new Date(t), reason: `minimal: ${error}`, payload });
      metrics.onFailed?.(kindOf(job), code);
      logger.error(
        { outboxJob: describe(job), code, error, hint: slackErrorHint(code, job.channel) },
        `outbox: Slack refused a ${kindOf(job)} to ${job.channel} (${code}); sending it again as plain text`,
      );
      wakeAt(t);
      return;
    }
    if (kind === 'channel') {
      if (job.type === 'post' && job.kind === 'dm' && code === 'channel_not_found' && job.userId) {
        // The kept DM channel is gone (rare): open a new one rather than drop the page.
        if (!job.degraded) {
          await repo.dmChannelGone(job.userId, job.channel, `reopened: ${code}`);
          logger.warn({ outboxJob: describe(job) }, 'outbox: Slack no longer knows the kept DM channel; opening a new one');
          wakeAt(t);
          return;
        }
      }
      const report = channelReport(job.channel, code, t);
      if (job.type === 'post' && job.kind === 'post' && report) {
        const note = { type: 'context', elements: [{ type: 'mrkdwn', text: `⚠️ Posted here because Switchboard cannot post in <#${job.channel}> (\`${code}\`).` }] };
        const blocks = job.payload.blocks && job.payload.blocks.length < 50 ? [note, ...job.payload.blocks] : job.payload.blocks;
        await repo.degrade(job, { now: new Date(t), reason: `moved: ${error} in ${job.channel}`, channel: defaultChannel!, payload: { ...job.payload, ...(blocks ? { blocks } : {}) }, report });
        metrics.onFailed?.(kindOf(job), code);
        logger.error({ outboxJob: describe(job), code, hint: slackErrorHint(code, job.channel) }, `outbox: Slack refused a post to ${job.channel} (${code}); posting it in ${defaultChannel} instead`);
        wakeAt(t);
        return;
      }
      if (report) await repo.reportChannelOnce(report, new Date(t));
    }
    return giveUp(job, code, error);
  }

  async function settleFailure(job: OutboxJob, error: unknown, posting: boolean): Promise<void> {
    const failure = toChatPostFailure(error);
    const t = now();
    // Slack answered the post with an error: it was not made. Without an answer it may have been.
    const notPosted = posting && !(failure.kind === 'transient' && failure.unanswered);
    switch (failure.kind) {
      case 'rate_limited': {
        // chat.postMessage is limited per channel; the other methods per workspace (their tier).
        const notBefore = t + failure.retryAfterMs;
        if (job.type === 'update') gate.hold('chat.update', notBefore);
        if (job.type === 'open') gate.hold('conversations.open', notBefore);
        await repo.retry(job, { notBefore: new Date(notBefore), countAttempt: false, error: `rate limited for ${failure.retryAfterMs} ms`, notPosted, transient: false });
        const target = job.type === 'open' ? `user:${job.userId}` : job.channel;
        metrics.onRateLimited?.(target);
        logger.warn({ outboxJob: describe(job), retryAfterMs: failure.retryAfterMs }, `outbox: Slack rate limited ${target}; waiting as told`);
        wakeAt(notBefore);
        return;
      }
      case 'transient': {
        // Never given up: a Slack outage delays writes, it does not drop them.
        const attempts = job.attempts + 1;
        const delay = backoff(attempts);
        await repo.retry(job, { notBefore: new Date(t + delay), countAttempt: true, error: failure.detail, notPosted, transient: true });
        // Only now: a success seen before this row is marked would not wake it.
        outage = wakeOnRecovery;
        logger.warn({ outboxJob: describe(job), attempts, retryInMs: delay, detail: failure.detail }, 'outbox: Slack call failed; will retry');
        wakeAt(t + delay);
        return;
      }
      case 'permanent':
        return settlePermanent(job, failure.code, failure.detail ? `${failure.code}: ${failure.detail}` : failure.code);
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
    const updateLimit = gate.available('chat.update');
    const openLimit = gate.available('conversations.open');
    const { jobs, skipped } = await repo.claim({ now: new Date(now()), leaseMs, limit: free, updateLimit, openLimit });
    // A method at its tier's limit: look again when it frees.
    if (updateLimit === 0) wakeAt(gate.nextFreeAt('chat.update'));
    if (openLimit === 0) wakeAt(gate.nextFreeAt('conversations.open'));
    if (skipped) logger.info({ skipped }, 'outbox: skipped posts of messages already in Slack');
    const runs = jobs.map((job) => {
      const run = execute(job);
      inFlight.add(run);
      // Freed slots claim again at once (half of them together, since a claim costs the same for one
      // row as for many): after an outage the backlog goes at Slack's pace, not the poll's.
      void run.finally(() => {
        inFlight.delete(run);
        if (inFlight.size <= concurrency / 2) wakeAt(now());
      });
      return run;
    });
    return { count: jobs.length + skipped, runs };
  }

  /**
   * During an outage the writes wait out their backoff, and writes whose outcome is in doubt make
   * no call at all, so something cheap must notice that Slack is back: api.test, once a second.
   */
  async function probe(): Promise<void> {
    if (!outage || now() - lastProbe < PROBE_EVERY_MS) return;
    lastProbe = now();
    wakeAt(lastProbe + PROBE_EVERY_MS);
    try {
      await poster.ping();
    } catch {
      return;
    }
    await endOutage();
  }

  async function runLoop(): Promise<void> {
    while (running) {
      try {
        await probe();
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
      await probe();
      const { count, runs } = await claimAndDispatch();
      await Promise.all(runs);
      return count;
    },
  };
}

function describe(job: OutboxJob): Record<string, unknown> {
  if (job.type === 'open') return { kind: 'dm', userId: job.userId };
  return { kind: job.type === 'post' ? job.kind : 'update', id: job.id, channel: job.channel, ...(job.messageKey ? { messageKey: job.messageKey } : {}) };
}
