/**
 * A local stand-in for Slack's Web API (https://slack.com/api/), speaking the protocol that
 * `@slack/web-api` speaks: POST form-encoded or JSON, token in `Authorization: Bearer`, HTTP 200
 * with `{ok:false,error}` for API errors, HTTP 429 + `Retry-After` for rate limits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  BLOCK_KIT_LIMITS,
  formatProblem,
  truncateMessageText,
  validateMessageBlocks,
  validateModalView,
  type BlockKitProblem,
} from './block-kit-limits.js';

/** The workspace the fake pretends to be; request helpers use the same ids. */
export const FAKE_WORKSPACE = Object.freeze({
  teamId: 'T0FAKE0001',
  teamName: 'Switchboard Test',
  teamDomain: 'switchboard-test',
  url: 'https://switchboard-test.slack.com/',
  botUserId: 'U0FAKEBOT1',
  botUserName: 'switchboard',
  botId: 'B0FAKEBOT1',
  appId: 'A0FAKEAPP1',
});

export interface RecordedCall {
  method: string;
  token?: string;
  args: Record<string, unknown>;
  at: number;
  /** The JSON body the fake answered with. */
  response: Record<string, unknown>;
}

/** A call refused before its method ran: bad token, injected failure, rate limit, invalid blocks, unreachable. */
export interface RejectedCall {
  method: string;
  token?: string;
  args: Record<string, unknown>;
  at: number;
  status: number;
  error: string;
  errors?: string[];
}

export interface StoredMessage {
  type: 'message';
  channel: string;
  ts: string;
  text: string;
  user: string;
  bot_id: string;
  team: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  reply_count?: number;
  edited?: { user: string; ts: string };
  /** Message metadata as posted; `conversations.history` returns it only with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  reactions?: Array<{ name: string; users: string[]; count: number }>;
}

export type Failure = { status: 429; retryAfterSeconds: number } | { status: 500 | 502 | 503 } | { error: string };

export interface FakeSlack {
  /** Base URL ending in "/api/", to pass as `slackApiUrl`. */
  url: string;
  /** Every call that reached its method, in order (including method-level errors such as `message_not_found`). */
  calls: RecordedCall[];
  /** Calls refused before their method ran; never also in `calls`. */
  rejected: RejectedCall[];
  /** How many `chat.postMessage` calls `enforceChannelRate` answered with 429. */
  readonly rateLimited: number;
  callsTo(method: string): RecordedCall[];
  /** Resolves with the first matching call, past or future; rejects after timeoutMs (default 3000) listing recent calls. */
  waitFor(pred: (c: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /**
   * The next `times` (default 1) calls to `method` (only those whose arguments `when` accepts, if
   * given) answer with `failure` instead of running.
   */
  failNext(method: string, failure: Failure, times?: number, when?: (args: Record<string, unknown>) => boolean): void;
  /** While on, every request's socket is destroyed without an answer. */
  setUnreachable(on: boolean): void;
  /**
   * An outage: until called with undefined, every request is refused, taking the failures in turn
   * (`'unreachable'` drops the connection without an answer).
   */
  setOutage(failures: ReadonlyArray<Failure | 'unreachable'> | undefined): void;
  /**
   * Until called with undefined, `chat.postMessage` and `chat.update` in `channel` answer `error`
   * (`not_in_channel`, `is_archived`, `channel_not_found`), as Slack does for a channel the bot may not post in.
   */
  refuseChannel(channel: string, error: string | undefined): void;
  /** Answers every call `ms` late (the method runs at once, as a slow Slack would have done it). */
  setLatency(ms: number): void;
  /** Usergroup id -> user ids, answered by `usergroups.users.list`. */
  usergroups: Map<string, string[]>;
  /** User id -> profile for `users.info`; unknown ids get a generated profile. */
  users: Map<string, { name: string; tz: string; real_name?: string }>;
  /** Current messages of a channel (parents and replies), oldest first. */
  messages(channel: string): StoredMessage[];
  /** Channels (including DMs and user ids posted to) that hold at least one message. */
  channels(): string[];
  /** Calls `listener` after every call that reached its method; returns a function that stops it. */
  onCall(listener: (call: RecordedCall) => void): () => void;
  /** One message as it is now, after any `chat.update`. */
  message(channel: string, ts: string): StoredMessage | undefined;
  /** Forget calls, messages, queued failures and counters (not usergroups/users). */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  /** The only token accepted; default 'xoxb-test-token'. */
  token?: string;
  /** Answer a second chat.postMessage to one channel within 1 s with 429, Retry-After 1. Default false. */
  enforceChannelRate?: boolean;
  /**
   * Resolve `#name` in chat.postMessage to a channel id (`#ops-alerts` → `C0OPSALERTS`), keep the
   * message under the id and answer with it, as Slack does. Default false: the sandbox shows
   * channels by the names its catalog uses.
   */
  resolveChannelNames?: boolean;
  /** Keep only the latest this many calls and rejections (a long-running sandbox); default: all. */
  maxCalls?: number;
  /**
   * Enforce Slack's per-method rate tiers: more than `limit` calls of a method within `windowMs`
   * are answered 429 with the Retry-After until the window frees (e.g. Tier 3,
   * `{ 'conversations.open': { limit: 50, windowMs: 60_000 } }`). Default: none.
   */
  tiers?: Record<string, { limit: number; windowMs: number }>;
}

type Args = Record<string, unknown>;
type Answer = { status: number; body: Record<string, unknown> | string; headers?: Record<string, string> };
type Handler = (args: Args) => Record<string, unknown>;

/** Arguments Slack takes as JSON-encoded strings in form posts. */
const JSON_ARGS = ['blocks', 'attachments', 'view', 'metadata'] as const;

const ok = (body: Record<string, unknown> = {}): Record<string, unknown> => ({ ok: true, ...body });
const err = (error: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ok: false, error, ...extra });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Slack's `message` objects in responses carry no `channel`; the store keeps it for lookups. */
const asPayload = (msg: StoredMessage): Record<string, unknown> =>
  Object.fromEntries(Object.entries(msg).filter(([k, v]) => k !== 'channel' && v !== undefined));

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = opts.token ?? 'xoxb-test-token';
  const calls: RecordedCall[] = [];
  const rejected: RejectedCall[] = [];
  const failures = new Map<string, Array<{ failure: Failure; when?: (args: Args) => boolean }>>();
  const usergroups = new Map<string, string[]>();
  const users = new Map<string, { name: string; tz: string; real_name?: string }>();
  const store = new Map<string, Map<string, StoredMessage>>();
  const dmChannels = new Map<string, string>();
  const lastPostAt = new Map<string, number>();
  const channelId = (channel: string): string =>
    opts.resolveChannelNames && channel.startsWith('#') ? `C0${channel.slice(1).toUpperCase().replace(/[^A-Z0-9]/g, '')}` : channel;
  const waiters = new Set<{
    pred: (c: RecordedCall) => boolean;
    resolve: (c: RecordedCall) => void;
    fail: (e: Error) => void;
  }>();
  const sockets = new Set<Socket>();
  const listeners = new Set<(call: RecordedCall) => void>();
  let unreachable = false;
  let outage: { failures: ReadonlyArray<Failure | 'unreachable'>; next: number } | undefined;
  let latencyMs = 0;
  const tierCalls = new Map<string, number[]>();
  const refusedChannels = new Map<string, string>();
  let rateLimited = 0;
  let lastTs = { sec: 0, micro: 0 };
  let viewCounter = 0;

  /** Slack's ts: seconds, a dot, six digits; unique and increasing within the fake. */
  const nextTs = (): string => {
    const now = Math.floor(Date.now() / 1000);
    let { sec, micro } = lastTs;
    if (now > sec) ({ sec, micro } = { sec: now, micro: 100 });
    else if (micro + 100 > 999_999) ({ sec, micro } = { sec: sec + 1, micro: 100 });
    else micro += 100;
    lastTs = { sec, micro };
    return `${sec}.${String(micro).padStart(6, '0')}`;
  };

  const channelStore = (channel: string): Map<string, StoredMessage> => {
    let m = store.get(channel);
    if (!m) store.set(channel, (m = new Map()));
    return m;
  };
  const findMessage = (channel: unknown, ts: unknown): StoredMessage | undefined =>
    typeof channel === 'string' && typeof ts === 'string' ? store.get(channel)?.get(ts) : undefined;

  /** Slack truncates long `text` rather than refusing it, and says so in response_metadata. */
  const truncation = (text: string): { text: string; meta?: Record<string, unknown> } => {
    const t = truncateMessageText(text);
    if (!t.truncated) return { text };
    return {
      text: t.text,
      meta: {
        response_metadata: {
          warnings: ['message_truncated'],
          messages: ['[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.'],
        },
      },
    };
  };

  const hasContent = (a: Args): boolean =>
    str(a.text) !== undefined || Array.isArray(a.blocks) || Array.isArray(a.attachments);

  const handlers: Record<string, Handler> = {
    'api.test': (a) => ok({ args: a }),
    'auth.test': () =>
      ok({
        url: FAKE_WORKSPACE.url,
        team: FAKE_WORKSPACE.teamName,
        user: FAKE_WORKSPACE.botUserName,
        team_id: FAKE_WORKSPACE.teamId,
        user_id: FAKE_WORKSPACE.botUserId,
        bot_id: FAKE_WORKSPACE.botId,
        is_enterprise_install: false,
      }),
    'chat.postMessage': (a) => {
      const named = str(a.channel);
      if (!named) return err('channel_not_found');
      const channel = channelId(named);
      if (!hasContent(a)) return err('no_text');
      const { text, meta } = truncation(str(a.text) ?? '');
      const msg: StoredMessage = {
        type: 'message',
        channel,
        ts: nextTs(),
        text,
        user: FAKE_WORKSPACE.botUserId,
        bot_id: FAKE_WORKSPACE.botId,
        team: FAKE_WORKSPACE.teamId,
        ...(Array.isArray(a.blocks) ? { blocks: a.blocks } : {}),
        ...(Array.isArray(a.attachments) ? { attachments: a.attachments } : {}),
      };
      if (isObject(a.metadata)) {
        const { event_type: type, event_payload: payload } = a.metadata;
        if (typeof type !== 'string' || !isObject(payload)) return err('invalid_metadata_format');
        msg.metadata = { event_type: type, event_payload: payload };
      }
      const threadTs = str(a.thread_ts);
      if (threadTs) {
        msg.thread_ts = threadTs;
        const parent = findMessage(channel, threadTs);
        if (parent) {
          parent.thread_ts = parent.ts;
          parent.reply_count = (parent.reply_count ?? 0) + 1;
        }
      }
      channelStore(channel).set(msg.ts, msg);
      lastPostAt.set(channel, Date.now());
      return ok({ channel, ts: msg.ts, message: asPayload(msg), ...meta });
    },
    'chat.update': (a) => {
      const channel = str(a.channel);
      if (!channel) return err('channel_not_found');
      const msg = findMessage(channel, a.ts);
      if (!msg) return err('message_not_found');
      if (!hasContent(a)) return err('no_text');
      // An edit is not cut to fit as a post is: Slack refuses it.
      if ((str(a.text) ?? '').length > BLOCK_KIT_LIMITS.messageText) return err('msg_too_long');
      const { text, meta } = truncation(str(a.text) ?? msg.text);
      msg.text = text;
      // Slack keeps the previous blocks when `blocks` is absent; an empty array removes them.
      if (Array.isArray(a.blocks)) msg.blocks = a.blocks.length ? a.blocks : undefined;
      if (Array.isArray(a.attachments)) msg.attachments = a.attachments;
      msg.edited = { user: FAKE_WORKSPACE.botUserId, ts: nextTs() };
      return ok({ channel, ts: msg.ts, text: msg.text, message: asPayload(msg), ...meta });
    },
    'chat.postEphemeral': (a) => {
      if (!str(a.channel)) return err('channel_not_found');
      if (!str(a.user)) return err('user_not_in_channel');
      if (!hasContent(a)) return err('no_text');
      return ok({ message_ts: nextTs(), ...truncation(str(a.text) ?? '').meta });
    },
    'chat.delete': (a) => {
      const msg = findMessage(a.channel, a.ts);
      if (!msg) return err('message_not_found');
      store.get(msg.channel)?.delete(msg.ts);
      return ok({ channel: msg.channel, ts: msg.ts });
    },
    'chat.getPermalink': (a) => {
      const msg = findMessage(a.channel, a.message_ts);
      if (!msg) return err('message_not_found');
      const base = `${FAKE_WORKSPACE.url}archives/${msg.channel}/p${msg.ts.replace('.', '')}`;
      const thread = msg.thread_ts && msg.thread_ts !== msg.ts ? `?thread_ts=${msg.thread_ts}&cid=${msg.channel}` : '';
      return ok({ channel: msg.channel, permalink: base + thread });
    },
    // A channel's top-level messages, newest first, after `oldest` (exclusive), `limit` a page
    // (default 100, at most 999), paged with `cursor`; metadata only with include_all_metadata.
    'conversations.history': (a) => {
      const channel = str(a.channel);
      const known = channel !== undefined && [...dmChannels.values()].includes(channel);
      const messages = channel ? (store.get(channel) ?? (known ? new Map<string, StoredMessage>() : undefined)) : undefined;
      if (!messages) return err('channel_not_found');
      const oldest = Number(str(a.oldest) ?? '0');
      const limit = Math.min(999, Math.max(1, Number(a.limit ?? 100) || 100));
      const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
      const before = str(a.cursor);
      const all = [...messages.values()]
        .filter((m) => (!m.thread_ts || m.thread_ts === m.ts) && Number(m.ts) > oldest && (!before || Number(m.ts) < Number(before)))
        .sort((x, y) => Number(y.ts) - Number(x.ts));
      const page = all.slice(0, limit).map((m) => asPayload(withMetadata ? m : { ...m, metadata: undefined }));
      const more = all.length > limit;
      return ok({ messages: page, has_more: more, ...(more ? { response_metadata: { next_cursor: String(page.at(-1)!.ts) } } : {}) });
    },
    // A thread: its parent first, then the replies after `oldest` (exclusive), oldest first, `limit`
    // a page (default 100, at most 1000), paged with `cursor`; metadata only with include_all_metadata.
    'conversations.replies': (a) => {
      const channel = str(a.channel);
      const messages = channel ? store.get(channel) : undefined;
      if (!messages) return err('channel_not_found');
      const parent = messages.get(str(a.ts) ?? '');
      if (!parent) return err('thread_not_found');
      const oldest = Number(str(a.oldest) ?? '0');
      const limit = Math.min(1000, Math.max(1, Number(a.limit ?? 100) || 100));
      const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
      const after = Number(str(a.cursor) ?? '0');
      const replies = [...messages.values()]
        .filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts && Number(m.ts) > oldest && Number(m.ts) > after)
        .sort((x, y) => Number(x.ts) - Number(y.ts));
      const page = [...(after ? [] : [parent]), ...replies].slice(0, limit);
      const more = (after ? 0 : 1) + replies.length > limit;
      const shown = page.map((m) => asPayload(withMetadata ? m : { ...m, metadata: undefined }));
      return ok({ messages: shown, has_more: more, ...(more ? { response_metadata: { next_cursor: String(page.at(-1)!.ts) } } : {}) });
    },
    'conversations.open': (a) => {
      const ids = (str(a.users) ?? '').split(',').map((u) => u.trim()).filter(Boolean);
      if (ids.length === 0) return str(a.channel) ? ok({ channel: { id: a.channel } }) : err('users_list_not_supplied');
      const key = [...ids].sort().join(',');
      let id = dmChannels.get(key);
      if (!id) {
        id = `${ids.length === 1 ? 'D' : 'G'}0FAKE${String(dmChannels.size + 1).padStart(4, '0')}`;
        dmChannels.set(key, id);
      }
      return ok({ channel: { id } });
    },
    'usergroups.users.list': (a) => {
      const members = usergroups.get(str(a.usergroup) ?? '');
      return members ? ok({ users: [...members] }) : err('no_such_subteam');
    },
    'users.info': (a) => {
      const id = str(a.user);
      if (!id) return err('user_not_found');
      const known = users.get(id);
      const name = known?.name ?? `user-${id.toLowerCase()}`;
      const tz = known?.tz ?? 'UTC';
      return ok({
        user: {
          id,
          team_id: FAKE_WORKSPACE.teamId,
          name,
          real_name: known?.real_name ?? name,
          tz,
          is_bot: false,
          deleted: false,
          profile: { display_name: name, real_name: known?.real_name ?? name },
        },
      });
    },
    'views.open': (a) => {
      if (!str(a.trigger_id)) return err('invalid_arguments');
      const view = a.view;
      if (!isObject(view)) return err('invalid_arguments');
      viewCounter += 1;
      return ok({
        view: {
          id: `V0FAKE${String(viewCounter).padStart(4, '0')}`,
          team_id: FAKE_WORKSPACE.teamId,
          app_id: FAKE_WORKSPACE.appId,
          bot_id: FAKE_WORKSPACE.botId,
          state: { values: {} },
          hash: `${Date.now()}.fake${viewCounter}`,
          ...view,
        },
      });
    },
    'reactions.add': (a) => {
      const name = str(a.name);
      if (!name) return err('invalid_name');
      const msg = findMessage(a.channel, a.timestamp);
      if (!msg) return err('message_not_found');
      msg.reactions ??= [];
      const existing = msg.reactions.find((r) => r.name === name);
      if (existing?.users.includes(FAKE_WORKSPACE.botUserId)) return err('already_reacted');
      if (existing) {
        existing.users.push(FAKE_WORKSPACE.botUserId);
        existing.count += 1;
      } else msg.reactions.push({ name, users: [FAKE_WORKSPACE.botUserId], count: 1 });
      return ok();
    },
  };

  /** Block Kit checks for the methods that carry blocks; problems mean `invalid_blocks`. */
  const blockProblems = (method: string, a: Args): BlockKitProblem[] => {
    if (method === 'views.open') return isObject(a.view) ? validateModalView(a.view) : [];
    if (method === 'chat.postMessage' || method === 'chat.update' || method === 'chat.postEphemeral') {
      return validateMessageBlocks(a.blocks);
    }
    return [];
  };

  const notify = (call: RecordedCall): void => {
    if (opts.maxCalls !== undefined) {
      if (calls.length > opts.maxCalls) calls.splice(0, calls.length - opts.maxCalls);
      if (rejected.length > opts.maxCalls) rejected.splice(0, rejected.length - opts.maxCalls);
    }
    for (const listener of listeners) listener(call);
    for (const w of [...waiters]) {
      if (w.pred(call)) {
        waiters.delete(w);
        w.resolve(call);
      }
    }
  };

  const reject = (method: string, tok: string | undefined, args: Args, status: number, error: string, errors?: string[]): void => {
    rejected.push({ method, token: tok, args, at: Date.now(), status, error, ...(errors ? { errors } : {}) });
  };

  const failureAnswer = (f: Failure): { answer: Answer; error: string } => {
    if ('error' in f) return { answer: { status: 200, body: err(f.error) }, error: f.error };
    if (f.status === 429) {
      return {
        answer: { status: 429, body: err('ratelimited'), headers: { 'retry-after': String(f.retryAfterSeconds) } },
        error: 'ratelimited',
      };
    }
    return { answer: { status: f.status, body: `HTTP ${f.status}` }, error: `http_${f.status}` };
  };

  const handle = (method: string, headers: IncomingMessage['headers'], raw: string): Answer => {
    const parsed = parseBody(headers['content-type'], raw);
    if ('error' in parsed) return { status: 200, body: err(parsed.error) };
    const { args, bodyToken, isJson } = parsed;
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    // Slack reads the token from a JSON body only via the Authorization header.
    const tok = bearer ?? (isJson ? undefined : bodyToken);

    if (!tok) {
      reject(method, tok, args, 200, 'not_authed');
      return { status: 200, body: err('not_authed') };
    }
    if (tok !== token) {
      reject(method, tok, args, 200, 'invalid_auth');
      return { status: 200, body: err('invalid_auth') };
    }
    const queued = failures.get(method);
    const index = queued ? queued.findIndex((q) => !q.when || q.when(args)) : -1;
    const failure = index >= 0 ? queued!.splice(index, 1)[0]!.failure : undefined;
    if (queued && queued.length === 0) failures.delete(method);
    if (failure) {
      const { answer, error } = failureAnswer(failure);
      reject(method, tok, args, answer.status, error);
      return answer;
    }
    const tier = opts.tiers?.[method];
    if (tier) {
      const t = Date.now();
      const recent = (tierCalls.get(method) ?? []).filter((at) => at > t - tier.windowMs);
      tierCalls.set(method, recent);
      if (recent.length >= tier.limit) {
        rateLimited += 1;
        const retryAfter = Math.max(1, Math.ceil((recent[0]! + tier.windowMs - t) / 1000));
        reject(method, tok, args, 429, 'ratelimited');
        return { status: 429, body: err('ratelimited'), headers: { 'retry-after': String(retryAfter) } };
      }
      recent.push(t);
    }
    if (opts.enforceChannelRate && method === 'chat.postMessage' && typeof args.channel === 'string') {
      const last = lastPostAt.get(channelId(args.channel));
      if (last !== undefined && Date.now() - last < 1000) {
        rateLimited += 1;
        reject(method, tok, args, 429, 'ratelimited');
        return { status: 429, body: err('ratelimited'), headers: { 'retry-after': '1' } };
      }
    }
    const handler = handlers[method];
    const refusal = (method === 'chat.postMessage' || method === 'chat.update') && typeof args.channel === 'string' ? refusedChannels.get(channelId(args.channel)) : undefined;
    if (refusal) {
      const response = err(refusal);
      const call: RecordedCall = { method, token: tok, args, at: Date.now(), response };
      calls.push(call);
      notify(call);
      return { status: 200, body: response };
    }
    if (handler) {
      const problems = blockProblems(method, args);
      if (problems.length) {
        const errors = problems.map(formatProblem);
        reject(method, tok, args, 200, 'invalid_blocks', errors);
        return {
          status: 200,
          body: err('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } }),
        };
      }
    }
    const response = handler ? handler(args) : err('unknown_method');
    const call: RecordedCall = { method, token: tok, args, at: Date.now(), response };
    calls.push(call);
    notify(call);
    return { status: 200, body: response };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = decodeURIComponent(new URL(req.url ?? '/', 'http://fake').pathname.replace(/^\/api\//, ''));
    const down = outage ? outage.failures[outage.next++ % outage.failures.length] : undefined;
    if (unreachable || down === 'unreachable') {
      rejected.push({ method, args: {}, at: Date.now(), status: 0, error: 'unreachable' });
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!req.url?.startsWith('/api/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      let answer: Answer;
      if (down) {
        const refused = failureAnswer(down);
        rejected.push({ method, args: {}, at: Date.now(), status: refused.answer.status, error: refused.error });
        answer = refused.answer;
      } else {
        try {
          answer = handle(method, req.headers, Buffer.concat(chunks).toString('utf8'));
        } catch (e) {
          answer = { status: 200, body: err('fatal_error', { detail: String(e) }) };
        }
      }
      const isText = typeof answer.body === 'string';
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, {
          'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
          ...answer.headers,
        });
        res.end(isText ? answer.body : JSON.stringify(answer.body));
      };
      if (latencyMs > 0 && !down) setTimeout(send, latencyMs);
      else send();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const describe = (c: { method: string; args: Args }): string => {
    const bits = ['channel', 'ts', 'thread_ts', 'text']
      .filter((k) => c.args[k] !== undefined)
      .map((k) => `${k}=${JSON.stringify(String(c.args[k])).slice(0, 60)}`);
    return `${c.method}(${bits.join(' ')})`;
  };

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    rejected,
    get rateLimited() {
      return rateLimited;
    },
    usergroups,
    users,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor(pred, timeoutMs = 3000) {
      const past = calls.find(pred);
      if (past) return Promise.resolve(past);
      return new Promise<RecordedCall>((resolve, rejectWait) => {
        const waiter = {
          pred,
          resolve: (c: RecordedCall) => {
            clearTimeout(timer);
            resolve(c);
          },
          fail: (e: Error) => {
            clearTimeout(timer);
            rejectWait(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const recent = calls.slice(-10).map((c) => `  ${describe(c)}`);
          const refused = rejected.slice(-5).map((r) => `  ${describe(r)} -> ${r.error}`);
          rejectWait(
            new Error(
              `fake Slack: no matching call within ${timeoutMs} ms. ` +
                `Recent calls (${calls.length} total):\n${recent.join('\n') || '  (none)'}` +
                (refused.length ? `\nRecently rejected:\n${refused.join('\n')}` : ''),
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    failNext(method, failure, times = 1, when) {
      const queue = failures.get(method) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(when ? { failure, when } : { failure });
      failures.set(method, queue);
    },
    setUnreachable(on) {
      unreachable = on;
      // Kept-alive connections would otherwise still answer the next request.
      if (on) for (const s of sockets) s.destroy();
    },
    setOutage(failures) {
      outage = failures && failures.length > 0 ? { failures, next: 0 } : undefined;
      if (outage) for (const sock of sockets) sock.destroy();
    },
    refuseChannel(channel, error) {
      if (error) refusedChannels.set(channel, error);
      else refusedChannels.delete(channel);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    messages: (channel) => [...(store.get(channel)?.values() ?? [])],
    channels: () => [...store.entries()].filter(([, m]) => m.size > 0).map(([id]) => id),
    onCall(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    message: (channel, ts) => store.get(channel)?.get(ts),
    reset() {
      calls.length = 0;
      rejected.length = 0;
      failures.clear();
      store.clear();
      dmChannels.clear();
      lastPostAt.clear();
      tierCalls.clear();
      refusedChannels.clear();
      outage = undefined;
      latencyMs = 0;
      rateLimited = 0;
    },
    close() {
      for (const w of [...waiters]) {
        waiters.delete(w);
        w.fail(new Error('fake Slack closed while a waitFor was pending'));
      }
      return new Promise<void>((resolve, rejectClose) => {
        server.close((e) => (e ? rejectClose(e) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

type Parsed = { args: Args; bodyToken?: string; isJson: boolean } | { error: string };

/** Decode a Web API request body; JSON-encoded form values such as `blocks` become objects. */
function parseBody(contentType: string | undefined, raw: string): Parsed {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let args: Args;
  let isJson = false;
  if (type === 'application/json') {
    isJson = true;
    try {
      const v: unknown = raw ? JSON.parse(raw) : {};
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'invalid_json' };
      args = { ...(v as Args) };
    } catch {
      return { error: 'invalid_json' };
    }
  } else if (type === 'application/x-www-form-urlencoded' || type === '') {
    args = Object.fromEntries(new URLSearchParams(raw));
  } else {
    return { error: 'invalid_form_data' };
  }
  const bodyToken = typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  for (const key of JSON_ARGS) {
    const v = args[key];
    if (typeof v !== 'string') continue;
    try {
      args[key] = JSON.parse(v);
    } catch {
      return { error: key === 'blocks' ? 'invalid_blocks_format' : `invalid_${key}` };
    }
  }
  return { args, bodyToken, isJson };
}
