import type { OutboxPayload } from '../../store/outbox-repository.js';

/**
 * Minimal forms of keyed messages, by key prefix (`incident:`): plain text that Slack takes
 * whatever the full render held. Undefined when the message is unknown.
 */
export type MinimalRenderers = Readonly<Record<string, (messageKey: string) => Promise<OutboxPayload | undefined>>>;

/** What a permanent Slack error is about: the message itself, where it goes, or neither. */
export type PermanentKind = 'content' | 'channel' | 'other';

// The message as sent is refused; plain text of a safe length is not.
const CONTENT_CODES = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_attachments',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
  'markdown_text_conflict',
  'http_413',
]);
// The bot may not post where the write goes; the same message may be posted elsewhere.
const CHANNEL_CODES = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_access_not_granted',
  'ekm_access_denied',
]);

export function permanentKind(code: string): PermanentKind {
  if (CONTENT_CODES.has(code)) return 'content';
  if (CHANNEL_CODES.has(code)) return 'channel';
  return 'other';
}

// Well under Slack's 4,000 characters for a message's text, so no length error can come back.
const MINIMAL_TEXT_CHARS = 3_000;

/**
 * The minimal form of a refused write: its key's renderer when there is one, else its own text
 * cut to a safe length, with no blocks (an edit sends `blocks: []`, since chat.update otherwise
 * keeps the refused message's blocks).
 */
export async function minimalPayload(renderers: MinimalRenderers, messageKey: string | undefined, payload: OutboxPayload, forEdit: boolean): Promise<OutboxPayload> {
  let minimal: OutboxPayload | undefined;
  const prefix = messageKey ? Object.keys(renderers).find((p) => messageKey.startsWith(p)) : undefined;
  if (messageKey && prefix) minimal = await renderers[prefix]!(messageKey).catch(() => undefined);
  const text = cut((minimal ?? payload).text || 'Switchboard could not show this message (Slack refused it).');
  return forEdit ? { text, blocks: [] } : { text };
}

function cut(text: string): string {
  if (text.length <= MINIMAL_TEXT_CHARS) return text;
  return `${[...text.slice(0, MINIMAL_TEXT_CHARS - 1)].slice(0, -1).join('')}…`;
}
