import type { KnownBlock } from '@slack/types';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type Logger as SlackLogger,
  type LogLevel,
} from '@slack/web-api';

export interface ChatMessage {
  channel: string;
  text: string;
  blocks?: KnownBlock[];
  /** Posts into the thread of this parent message. */
  thread_ts?: string;
  /** The outbox's name for the message, carried in its metadata so that `findPosted` can find it. */
  messageKey?: string;
}

/** The message metadata event type Switchboard's keyed posts carry. */
export const MESSAGE_KEY_EVENT = 'switchboard_message';

/** The Slack calls the outbox makes; failures are thrown as `ChatPostError`. */
export interface ChatPoster {
  postMessage(message: ChatMessage): Promise<{ channel: string; ts: string }>;
  /**
   * The ts of the message posted with `messageKey` in `channel` since about `since`: a top-level
   * one (conversations.history, which also serves DM channels) or, with `threadTs`, a reply in that
   * thread (conversations.replies); metadata included. Undefined when Slack has none.
   */
  findPosted(query: { channel: string; messageKey: string; since: Date; threadTs?: string }): Promise<string | undefined>;
  update(message: { channel: string; ts: string; text: string; blocks?: KnownBlock[] }): Promise<void>;
  /** The DM channel id with `userId` (conversations.open). */
  openDm(userId: string): Promise<string>;
  /** Whether Slack answers at all (api.test), to learn when an outage ends without spending a write. */
  ping(): Promise<void>;
}

/**
 * Why a Slack call failed, as the sender acts on it: wait as told, back off and retry, or give up
 * (with Slack's error code, e.g. `not_in_channel`).
 */
export type ChatPostFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** `unanswered`: no HTTP answer came (a timeout, a dropped connection), so Slack may have done it. */
  | { kind: 'transient'; detail: string; unanswered?: true }
  | { kind: 'permanent'; code: string; detail?: string };

export class ChatPostError extends Error {
  constructor(
    readonly failure: ChatPostFailure,
    options?: { cause?: unknown },
  ) {
    super(failure.kind === 'permanent' ? `Slack refused the call: ${failure.code}` : failure.kind === 'rate_limited' ? `Slack rate limited the call for ${failure.retryAfterMs} ms` : `Slack call failed: ${failure.detail}`, options);
    this.name = 'ChatPostError';
  }
}

// Slack answers these with HTTP 200 and ok:false, yet they say nothing about the request itself.
const TRANSIENT_CODES = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
// The posting limit as an API error rather than HTTP 429; Slack gives no wait with it.
const RATE_LIMIT_CODES = new Set(['ratelimited', 'rate_limited']);
const DEFAULT_RATE_LIMIT_MS = 5_000;

/** Sorts an error from `@slack/web-api` (or the network under it) into what the sender does next. */
export function toChatPostFailure(error: unknown): ChatPostFailure {
  if (error instanceof ChatPostError) return error.failure;
  if (error instanceof WebAPIRateLimitedError) return { kind: 'rate_limited', retryAfterMs: Math.max(1, error.retryAfter) * 1000 };
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    if (RATE_LIMIT_CODES.has(code)) return { kind: 'rate_limited', retryAfterMs: DEFAULT_RATE_LIMIT_MS };
    if (TRANSIENT_CODES.has(code)) return { kind: 'transient', detail: code };
    const details = (error.data as { errors?: unknown }).errors ?? error.data.response_metadata?.messages;
    return { kind: 'permanent', code, ...(Array.isArray(details) && details.length ? { detail: details.map(String).join('; ') } : {}) };
  }
  if (error instanceof WebAPIHTTPError) {
    if (error.statusCode >= 500 || error.statusCode === 408) return { kind: 'transient', detail: `HTTP ${error.statusCode}` };
    return { kind: 'permanent', code: `http_${error.statusCode}` };
  }
  if (error instanceof WebAPIRequestError) {
    // A connection Slack's side refused or a name that did not resolve: the request never reached Slack.
    const code = (error.original as NodeJS.ErrnoException | undefined)?.code;
    const unsent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    return { kind: 'transient', detail: error.original.message || error.message, ...(unsent ? {} : { unanswered: true as const }) };
  }
  return { kind: 'transient', detail: error instanceof Error ? error.message : String(error), unanswered: true };
}

const translated = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw new ChatPostError(toChatPostFailure(error), { cause: error });
  }
};

/**
 * A WebClient for the outbox: it makes each call once and reports a 429 at once, because the
 * outbox owns retries and pacing (the client's own retries would hold a row and its channel
 * for up to half an hour). `timeoutMs` must stay well below the sender's lease.
 */
export function createSlackWebClient(options: { token: string; slackApiUrl?: string; timeoutMs?: number; logger?: SlackLogger; logLevel?: LogLevel }): WebClient {
  return new WebClient(options.token, {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 15_000,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}

const HISTORY_MARGIN_MS = 5 * 60_000;
// 1,000 messages: at one post per second, far more than a channel gets while a post is in doubt.
const HISTORY_PAGES = 5;

/** `ChatPoster` on `@slack/web-api`; build the client with `createSlackWebClient`. */
export function createSlackChatPoster(client: WebClient): ChatPoster {
  return {
    postMessage: (message) =>
      translated(async () => {
        const result = await client.chat.postMessage({
          channel: message.channel,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
          ...(message.messageKey ? { metadata: { event_type: MESSAGE_KEY_EVENT, event_payload: { message_key: message.messageKey } } } : {}),
        });
        if (!result.ts) throw new ChatPostError({ kind: 'permanent', code: 'missing_ts', detail: 'chat.postMessage answered ok without a ts' });
        return { channel: result.channel ?? message.channel, ts: result.ts };
      }),
    findPosted: ({ channel, messageKey, since, threadTs }) =>
      translated(async () => {
        // Slack's clock and ours may differ a little; the key, not the time, identifies the message.
        const oldest = ((since.getTime() - HISTORY_MARGIN_MS) / 1000).toFixed(6);
        let cursor: string | undefined;
        for (let page = 0; page < HISTORY_PAGES; page++) {
          const paging = { oldest, limit: 200, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
          const result = threadTs ? await client.conversations.replies({ channel, ts: threadTs, ...paging }) : await client.conversations.history({ channel, ...paging });
          const found = result.messages?.find((m) => m.metadata?.event_type === MESSAGE_KEY_EVENT && (m.metadata.event_payload as Record<string, unknown> | undefined)?.message_key === messageKey);
          if (found?.ts) return found.ts;
          cursor = result.response_metadata?.next_cursor || undefined;
          if (!result.has_more || !cursor) return undefined;
        }
        return undefined;
      }),
    update: (message) =>
      translated(async () => {
        await client.chat.update({ channel: message.channel, ts: message.ts, text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) });
      }),
    ping: () =>
      translated(async () => {
        await client.api.test();
      }),
    openDm: (userId) =>
      translated(async () => {
        const result = await client.conversations.open({ users: userId });
        const id = result.channel?.id;
        if (!id) throw new ChatPostError({ kind: 'permanent', code: 'missing_channel', detail: 'conversations.open answered ok without a channel' });
        return id;
      }),
  };
}
