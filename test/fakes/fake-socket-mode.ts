/**
 * A local stand-in for Slack's Socket Mode: the two Web API methods a Socket Mode app needs before
 * its first event (`auth.test` with the bot token, `apps.connections.open` with the app-level token
 * in the Authorization header), and the WebSocket that `apps.connections.open` points to, which
 * greets with `hello`, delivers envelopes and records their acknowledgements.
 * Protocol: docs.slack.dev/apis/events-api/using-socket-mode.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { acceptWebSocket, rejectUpgrade, type CloseInfo, type WebSocketPeer } from './websocket-server.js';

/** The app and workspace the fake pretends to be. */
export const SOCKET_MODE_WORKSPACE = Object.freeze({
  appId: 'A0SOCKET01',
  teamId: 'T0SOCKET01',
  teamDomain: 'socket-test',
  teamName: 'Socket Mode Test',
  botUserId: 'U0SOCKBOT1',
  botId: 'B0SOCKBOT1',
});

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface Envelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the app sent back for an envelope: `{ envelope_id, payload? }`. */
export interface EnvelopeAck {
  envelope_id: string;
  payload?: Record<string, any>;
  /** Milliseconds from sending the envelope to receiving its acknowledgement. */
  elapsedMs: number;
}

export interface ApiCall {
  method: string;
  /** Where the token came from; Slack accepts the app-level token only in the header. */
  tokenIn: 'header' | 'body' | 'none';
  token?: string;
  response: Record<string, unknown>;
}

/** One WebSocket connection the app opened with a ticket from `apps.connections.open`. */
export interface SocketModeLink {
  readonly ticket: string;
  readonly isOpen: boolean;
  /** Ping frames the app sent; each was answered with a pong. */
  readonly pingsFromApp: number;
  /** Every text message the app sent that was not an acknowledgement, as parsed JSON or raw text. */
  readonly stray: unknown[];
  /** Sends an envelope; `ack` resolves with the app's acknowledgement or rejects after timeoutMs (default 3000, Slack's limit). */
  deliver(type: EnvelopeType, payload: Record<string, unknown>, options?: { acceptsResponsePayload?: boolean; timeoutMs?: number }): { envelopeId: string; ack: Promise<EnvelopeAck> };
  /** Pings the app; resolves on its pong. */
  ping(payload?: string): Promise<void>;
  /** Sends `{ type: 'disconnect', reason }`, as Slack does before it recycles a connection. */
  requestDisconnect(reason: 'warning' | 'refresh_requested' | 'link_disabled'): void;
  close(code?: number): Promise<CloseInfo>;
  /** Resolves when the connection ends; `initiatedBy: 'client'` and `clean` after the app closes it properly. */
  readonly closed: Promise<CloseInfo>;
}

export interface FakeSocketMode {
  /** Base Web API URL ending in "/api/", for `SLACK_API_URL`. */
  apiUrl: string;
  calls: ApiCall[];
  /** Connections in the order the app opened them (a reconnect adds one). */
  links: SocketModeLink[];
  /** Resolves with the index-th link (default 0, the first) once greeted with `hello`, past or future; rejects after timeoutMs (default 5000). */
  waitForLink(index?: number, timeoutMs?: number): Promise<SocketModeLink>;
  close(): Promise<void>;
}

export interface FakeSocketModeOptions {
  appToken: string;
  botToken: string;
}

/** A slash command payload as Socket Mode delivers it: the HTTP form fields as a JSON object of strings. */
export function slashCommandPayload(fields: { text: string; response_url: string; user_id?: string; user_name?: string; channel_id?: string; command?: string }): Record<string, string> {
  return {
    token: 'fakeVerificationToken0001',
    team_id: SOCKET_MODE_WORKSPACE.teamId,
    team_domain: SOCKET_MODE_WORKSPACE.teamDomain,
    channel_id: fields.channel_id ?? 'C0OPS00001',
    channel_name: 'ops',
    user_id: fields.user_id ?? 'U0ALICE001',
    user_name: fields.user_name ?? 'alice',
    command: fields.command ?? '/ops',
    text: fields.text,
    api_app_id: SOCKET_MODE_WORKSPACE.appId,
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: `${Date.now()}.${randomBytes(4).readUInt32BE(0)}.${randomBytes(16).toString('hex')}`,
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startFakeSocketMode(options: FakeSocketModeOptions): Promise<FakeSocketMode> {
  const calls: ApiCall[] = [];
  const links: SocketModeLink[] = [];
  const tickets = new Set<string>();
  const sockets = new Set<Socket>();
  const linkWaiters = new Set<() => void>();
  let base = '';

  const api = async (method: string, req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const header = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = header ?? (typeof body.token === 'string' ? body.token : undefined);
    const tokenIn = header ? 'header' : token ? 'body' : 'none';
    let response: Record<string, unknown>;
    if (method === 'apps.connections.open') {
      if (!header) response = { ok: false, error: 'not_authed' };
      else if (header === options.appToken) {
        const ticket = randomUUID();
        tickets.add(ticket);
        response = { ok: true, url: `${base.replace(/^http/, 'ws')}/link/?ticket=${ticket}&app_id=${SOCKET_MODE_WORKSPACE.appId}` };
      } else if (/^xox[bpe]-/.test(header)) response = { ok: false, error: 'not_allowed_token_type' };
      else response = { ok: false, error: 'invalid_auth' };
    } else if (method === 'auth.test') {
      response =
        token === options.botToken
          ? {
              ok: true,
              url: `https://${SOCKET_MODE_WORKSPACE.teamDomain}.slack.com/`,
              team: SOCKET_MODE_WORKSPACE.teamName,
              user: 'switchboard',
              team_id: SOCKET_MODE_WORKSPACE.teamId,
              user_id: SOCKET_MODE_WORKSPACE.botUserId,
              bot_id: SOCKET_MODE_WORKSPACE.botId,
              is_enterprise_install: false,
            }
          : { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    } else {
      response = { ok: false, error: 'unknown_method' };
    }
    calls.push({ method, tokenIn, ...(token ? { token } : {}), response });
    const text = JSON.stringify(response);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
    if (req.method !== 'POST' || !method) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not_found');
      return;
    }
    api(method, req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ticket = url.searchParams.get('ticket') ?? '';
    // Tickets are single use, like Slack's: a reconnect must call apps.connections.open again.
    if (url.pathname !== '/link/' || !tickets.delete(ticket)) {
      rejectUpgrade(socket, 401, 'Unauthorized');
      return;
    }
    const pendingAcks = new Map<string, (ack: Omit<EnvelopeAck, 'elapsedMs'> | Error) => void>();
    const stray: unknown[] = [];
    const peer: WebSocketPeer | undefined = acceptWebSocket(req, socket, head, (text) => {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        stray.push(text);
        return;
      }
      const id = (message as { envelope_id?: unknown } | null)?.envelope_id;
      const settle = typeof id === 'string' ? pendingAcks.get(id) : undefined;
      if (!settle) {
        stray.push(message);
        return;
      }
      pendingAcks.delete(id as string);
      settle(message as EnvelopeAck);
    });
    if (!peer) return;
    void peer.closed.then((info) => {
      for (const settle of pendingAcks.values()) settle(new Error(`fake Socket Mode: connection closed (${JSON.stringify(info)}) before the acknowledgement`));
      pendingAcks.clear();
    });

    const link: SocketModeLink = {
      ticket,
      get isOpen() {
        return peer.isOpen;
      },
      get pingsFromApp() {
        return peer.pingsReceived;
      },
      stray,
      deliver(type, payload, opts = {}) {
        const envelopeId = randomUUID();
        const envelope: Envelope = { envelope_id: envelopeId, type, payload, accepts_response_payload: opts.acceptsResponsePayload ?? type !== 'events_api' };
        const timeoutMs = opts.timeoutMs ?? 3_000;
        const started = Date.now();
        const ack = new Promise<EnvelopeAck>((resolve, reject) => {
          const timer = setTimeout(() => {
            pendingAcks.delete(envelopeId);
            reject(new Error(`fake Socket Mode: envelope ${envelopeId} (${type}) not acknowledged within ${timeoutMs} ms; stray messages: ${JSON.stringify(stray).slice(0, 300)}`));
          }, timeoutMs);
          pendingAcks.set(envelopeId, (message) => {
            clearTimeout(timer);
            if (message instanceof Error) reject(message);
            else resolve({ ...message, elapsedMs: Date.now() - started });
          });
        });
        peer.sendText(JSON.stringify(envelope));
        return { envelopeId, ack };
      },
      ping: (payload) => peer.ping(payload),
      requestDisconnect(reason) {
        peer.sendText(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-socket-mode' } }));
      },
      close: (code) => peer.close(code),
      closed: peer.closed,
    };
    links.push(link);
    peer.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: links.filter((l) => l.isOpen).length,
        debug_info: { host: 'fake-socket-mode', build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: SOCKET_MODE_WORKSPACE.appId },
      }),
    );
    for (const waiter of [...linkWaiters]) waiter();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    calls,
    links,
    waitForLink(index = 0, timeoutMs = 5_000) {
      const existing = links[index];
      if (existing) return Promise.resolve(existing);
      return new Promise<SocketModeLink>((resolve, reject) => {
        const waiter = () => {
          const link = links[index];
          if (!link) return;
          clearTimeout(timer);
          linkWaiters.delete(waiter);
          resolve(link);
        };
        const timer = setTimeout(() => {
          linkWaiters.delete(waiter);
          reject(
            new Error(
              `fake Socket Mode: no connection #${index + 1} within ${timeoutMs} ms (${links.length} so far); Web API calls: ${JSON.stringify(calls.map((c) => [c.method, c.response.error ?? 'ok']))}`,
            ),
          );
        }, timeoutMs);
        linkWaiters.add(waiter);
      });
    },
    async close() {
      await Promise.all(links.filter((l) => l.isOpen).map((l) => l.close(1001)));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
