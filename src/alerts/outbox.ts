import type { Queryable } from '../store/db.js';
import { findSlackMessage, insertOutboxRow, type OutboxPayload, type SlackMessageRef } from '../store/outbox-repository.js';
import type { OutboxMessage, OutboxPriority, OutboxWriter } from './outbox-port.js';

const PRIORITY: Record<OutboxPriority, 0 | 1> = { page: 0, routine: 1 };

const payloadOf = (message: Extract<OutboxMessage, { text: string }>): OutboxPayload => (message.blocks ? { text: message.text, blocks: message.blocks } : { text: message.text });

/**
 * The durable outbox: writes commit with the caller's transaction. A post of a key already posted
 * (or waiting) is not added twice, and an update replaces the one of the same message still waiting.
 */
export function createOutbox(): OutboxWriter {
  return {
    async enqueue(tx, message) {
      const priority = PRIORITY[message.priority];
      if (message.kind === 'update') {
        const payload = 'renderAtSend' in message ? { renderAtSend: message.renderAtSend } : payloadOf(message);
        return insertOutboxRow(tx, { kind: 'update', messageKey: message.messageKey, priority, payload });
      }
      const payload = payloadOf(message);
      switch (message.kind) {
        case 'post':
          return insertOutboxRow(tx, { kind: 'post', channel: message.channel, messageKey: message.messageKey, priority, payload });
        case 'reply':
          return insertOutboxRow(tx, {
            kind: 'reply',
            threadKey: message.threadKey,
            ...(message.messageKey ? { messageKey: message.messageKey } : {}),
            priority,
            payload,
          });
        case 'dm':
          return insertOutboxRow(tx, { kind: 'dm', userId: message.userId, priority, payload, ...(message.afterKey ? { afterKey: message.afterKey } : {}) });
      }
    },
  };
}

/** Where the message named `messageKey` is in Slack, once the sender has posted it. */
export function messageTs(db: Queryable, messageKey: string): Promise<SlackMessageRef | undefined> {
  return findSlackMessage(db, messageKey);
}
