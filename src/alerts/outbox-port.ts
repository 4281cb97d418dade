import type { KnownBlock } from '@slack/types';
import type { Queryable } from '../store/db.js';

/**
 * One Slack write waiting in the durable outbox. Keys name Slack messages without knowing their
 * `ts`: the sender records the ts of `messageKey` when it first posts it, and replies and edits
 * wait for that.
 */
export type OutboxMessage =
  | { kind: 'post'; channel: string; messageKey: string; priority: OutboxPriority; text: string; blocks?: KnownBlock[] }
  /**
   * Replaces any edit of the same message still waiting: only the latest render is sent. With
   * `renderAtSend`, the sender renders the message when it sends it (`OutboxRenderers`), so
   * however many changes arrive between two edits, it is rendered once.
   */
  | ({ kind: 'update'; messageKey: string; priority: OutboxPriority } & ({ text: string; blocks?: KnownBlock[] } | { renderAtSend: string }))
  | { kind: 'reply'; threadKey: string; priority: OutboxPriority; text: string; blocks?: KnownBlock[]; messageKey?: string }
  /**
   * A direct message; `userId` is opened as a DM channel by the sender. With `afterKey` it is not
   * sent while the post of that message still waits (a page links to its incident's thread).
   */
  | { kind: 'dm'; userId: string; priority: OutboxPriority; text: string; blocks?: KnownBlock[]; afterKey?: string };

/** Escalation pings jump ahead of routine updates in the same channel. */
export type OutboxPriority = 'page' | 'routine';

/** Writes to the outbox inside the caller's transaction, so state and its Slack writes commit together. */
export interface OutboxWriter {
  enqueue(tx: Queryable, message: OutboxMessage): Promise<void>;
}
