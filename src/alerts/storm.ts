import type { KnownBlock } from '@slack/types';
import type { Catalog } from '../config/catalog-schema.js';
import { routeFor } from './match-route.js';
import type { Db, Queryable } from '../store/db.js';
import { beforeCommit } from '../store/deferred-work.js';
import { findSlackMessage, type SlackMessageRef } from '../store/outbox-repository.js';
import { incidentMessageKey } from './project-incident.js';
import type { IncidentEvent } from './apply-notification.js';
import type { IncidentChanged } from './incident-desk.js';
import type { OutboxPriority, OutboxWriter } from './outbox-port.js';
import { renderDigest } from './render-digest.js';
import type { StormConfig } from './storm-schema.js';
import {
  addToDigest,
  countOpenedSince,
  digestByKey,
  digestIncidents,
  insertDigest,
  latestDigests,
  lockChannels,
  placementOf,
  placementsOf,
  setThread,
  touchDigest,
  type DigestPlacement,
  type StormDigest,
} from './storm-store.js';

/**
 * How the projector shows an incident after a change:
 * - `thread`: as usual, its own parent message and thread replies;
 * - `digest`: not at all; the storm digest listing it was re-rendered instead;
 * - `open`: post its parent message now (with `priority`) and its timeline so far into the thread.
 */
export type StormPlacement = { kind: 'thread' } | { kind: 'digest' } | { kind: 'open'; priority: OutboxPriority };

export interface StormRouter {
  /**
   * Decides, inside the change's transaction, where the incident shows; enqueues the digest's own
   * writes. `placed` is its placement if already read (`placementsOf`; null: not in a digest).
   */
  place(tx: Queryable, change: { incidentId: string; channel: string; isNew: boolean; events: readonly IncidentEvent[]; now: Date; placed?: DigestPlacement | null }): Promise<StormPlacement>;
  /**
   * Takes the storm locks of these channels in a fixed order (two batches sharing channels cannot
   * deadlock) and reads their latest storms, kept for the transaction's `place` calls.
   */
  lockChannels(tx: Queryable, channels: readonly string[]): Promise<void>;
  /** Where these incidents are listed, read (and locked) in one statement for a batch's `place` calls. */
  placementsOf(tx: Queryable, incidentIds: readonly string[]): Promise<Map<string, DigestPlacement>>;
}

/** The Slack name of a storm's digest message. */
export const digestMessageKey = (channel: string, startedAt: Date) => `digest:${channel}:${startedAt.getTime()}`;

const THREAD: StormPlacement = { kind: 'thread' };
const DIGEST: StormPlacement = { kind: 'digest' };

/** Events that page people: they must reach a thread, so a digested incident gets its own first. */
const pages = (events: readonly IncidentEvent[]) => events.some((e) => e.kind === 'escalated');

/**
 * Storms, decided from the store under a per-channel lock: a new incident joins the channel's
 * storm while new incidents keep arriving within `quietAfter`; otherwise, when the channel got
 * more than `threshold` new incidents within `window` since its last storm ended (this one
 * included), a storm starts with it.
 * While an incident is only in a digest, its changes re-render the digest and nothing else is
 * written for it: the timeline in the store keeps everything, and opening its thread replays it.
 */
export function createStormRouter(options: { config: StormConfig; outbox: OutboxWriter }): StormRouter {
  const { config, outbox } = options;

  /**
   * Channels locked, and their latest storm. Within a transaction both are kept for its other
   * incidents of the channel: a batch of 50 new incidents locks and reads its channels once.
   */
  const channelsOf = new WeakMap<Queryable, Map<string, { latest: StormDigest | undefined }>>();
  // Outside a transaction (no `defer`) there is nothing to keep them for.
  const keptFor = (tx: Queryable) => (tx.defer ? (channelsOf.get(tx) ?? channelsOf.set(tx, new Map()).get(tx)!) : new Map<string, { latest: StormDigest | undefined }>());

  async function lockAndRead(tx: Queryable, channels: readonly string[]): Promise<Map<string, { latest: StormDigest | undefined }>> {
    const kept = keptFor(tx);
    const missing = [...new Set(channels)].filter((c) => !kept.has(c));
    if (missing.length === 0) return kept;
    await lockChannels(tx, missing);
    // Read after the locks are held: this statement's snapshot sees what their last holder committed.
    const latest = await latestDigests(tx, missing);
    for (const channel of missing) kept.set(channel, { latest: latest.get(channel) });
    return kept;
  }

  async function lockedChannel(tx: Queryable, channel: string): Promise<{ latest: StormDigest | undefined }> {
    return (await lockAndRead(tx, [channel])).get(channel)!;
  }

  /** Lists the incident in the digest and keeps the storm going, recorded once per transaction. */
  async function join(tx: Queryable, incidentId: string, digest: StormDigest, now: Date): Promise<void> {
    await addToDigest(tx, incidentId, digest.messageKey, now);
    if (now.getTime() > digest.lastIncidentAt.getTime()) digest.lastIncidentAt = now;
    await beforeCommit(tx, `storm touch ${digest.messageKey}`, (last) => touchDigest(last, digest.messageKey, digest.lastIncidentAt));
  }

  async function joinOrStart(tx: Queryable, incidentId: string, channel: string, now: Date): Promise<{ digest: StormDigest; started: boolean } | undefined> {
    const state = await lockedChannel(tx, channel);
    const latest = state.latest;
    if (latest && latest.lastIncidentAt.getTime() > now.getTime() - config.quietAfter) {
      await join(tx, incidentId, latest, now);
      return { digest: latest, started: false };
    }
    // Incidents of an earlier storm do not start the next one: after quietAfter, the channel starts counting afresh.
    const since = Math.max(now.getTime() - config.window, latest?.lastIncidentAt.getTime() ?? -Infinity);
    const recent = await countOpenedSince(tx, channel, new Date(since));
    if (recent <= config.threshold) return undefined;
    const digest = await insertDigest(tx, { messageKey: digestMessageKey(channel, now), channel, startedAt: now, lastIncidentAt: now });
    // Only a clock that went backwards meets an existing key; the incident joins that storm.
    const joined = digest ?? latest!;
    state.latest = joined;
    await join(tx, incidentId, joined, now);
    return { digest: joined, started: digest !== undefined };
  }

  // Once per transaction, before COMMIT (a batch adding 50 incidents queues one edit). The first
  // request wins, so the transaction that started the storm posts the digest. Edits are rendered
  // by the sender when it sends them: a storm of 1,000 incidents is listed about once a second,
  // not once per change.
  async function renderInto(tx: Queryable, digest: StormDigest, started: boolean, now: Date): Promise<void> {
    await beforeCommit(tx, `storm digest ${digest.messageKey}`, async (last) => {
      if (!started) return outbox.enqueue(last, { kind: 'update', messageKey: digest.messageKey, priority: 'routine', renderAtSend: STORM_DIGEST });
      const rendered = renderDigest(digest.channel, await digestIncidents(last, digest.messageKey), digest.startedAt, now);
      // Ahead of the routine thread posts queued in the channel: the digest is what makes a storm visible.
      await outbox.enqueue(last, { kind: 'post', channel: digest.channel, messageKey: digest.messageKey, priority: 'page', ...rendered });
    });
  }

  return {
    placementsOf,
    lockChannels: async (tx, channels) => void (await lockAndRead(tx, channels)),
    async place(tx, { incidentId, channel, isNew, events, now, placed: known }) {
      if (isNew) {
        const joined = await joinOrStart(tx, incidentId, channel, now);
        if (!joined) return THREAD;
        await renderInto(tx, joined.digest, joined.started, now);
        if (!pages(events)) return DIGEST;
        await setThread(tx, incidentId, ['digest'], 'open');
        return { kind: 'open', priority: 'page' };
      }
      const placed = known === undefined ? await placementOf(tx, incidentId) : (known ?? undefined);
      if (!placed) return THREAD;
      await renderInto(tx, placed.digest, false, now);
      if (placed.thread === 'open') return THREAD;
      if (placed.thread === 'requested' || pages(events)) {
        await setThread(tx, incidentId, [placed.thread], 'open');
        return { kind: 'open', priority: pages(events) ? 'page' : 'routine' };
      }
      return DIGEST;
    },
  };
}

/**
 * For the intake's batches (`lockForBatch`): takes the storm locks of every channel the batch's
 * incidents may go to (their own, and their labels' route) up front, so that concurrent batches
 * never deadlock on them, and reads those channels' storms once for the whole batch.
 */
export function createBatchChannelLock(catalog: Pick<Catalog, 'routes' | 'defaultRoute' | 'services'>, storms: Pick<StormRouter, 'lockChannels'>) {
  return (tx: Queryable, incidents: ReadonlyArray<{ labels: Readonly<Record<string, string>>; channel: string | null }>): Promise<void> =>
    storms.lockChannels(
      tx,
      incidents.flatMap((i) => [i.channel, routeFor(catalog, i.labels)?.channel].filter((c): c is string => Boolean(c))),
    );
}

/** The `renderAtSend` name of storm digest edits. */
export const STORM_DIGEST = 'storm-digest';

/** Renders a storm digest as it is now, for the sender (`OutboxRenderers`). */
export function createDigestRenderer(options: { db: Queryable; now: () => Date }): (messageKey: string) => Promise<{ text: string; blocks: KnownBlock[] }> {
  return async (messageKey) => {
    const digest = await digestByKey(options.db, messageKey);
    if (!digest) throw new Error(`storm digest ${messageKey} is not in the store`);
    return renderDigest(digest.channel, await digestIncidents(options.db, messageKey), digest.startedAt, options.now());
  };
}

export type OpenThreadResult = { status: 'opened' } | { status: 'already'; message?: SlackMessageRef } | { status: 'unknown' };

/** The digest's Open thread button. */
export interface ThreadOpener {
  /** Posts a digested incident's parent message and its thread so far; its later changes flow into that thread. */
  open(incidentId: string): Promise<OpenThreadResult>;
}

/** `project` is the incident projector: it sees the request and posts the thread (see StormRouter). */
export function createThreadOpener(options: { db: Db; project: IncidentChanged }): ThreadOpener {
  const { db, project } = options;
  return {
    open: (incidentId) =>
      db.transaction(async (tx): Promise<OpenThreadResult> => {
        if (await setThread(tx, incidentId, ['digest'], 'requested')) {
          await project(tx, incidentId, []);
          return { status: 'opened' };
        }
        const placed = await placementOf(tx, incidentId);
        if (!placed) return { status: 'unknown' };
        const message = await findSlackMessage(tx, incidentMessageKey(incidentId));
        return message ? { status: 'already', message } : { status: 'already' };
      }),
  };
}
