import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { sendJson, type Handler, type Route } from '../app/http-server.js';
import { refuseAndClose } from '../app/body-limit.js';
import { BodyTooLargeError, isSandboxToken, refuseNonLocal, readJsonBody } from './local-request.js';
import { ClickRequest, CommandRequest, SubmitRequest, type createSandboxActions } from './sandbox-actions.js';
import type { SandboxView } from './sandbox-view.js';
import type { SandboxUser } from './slack-payloads.js';

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export interface SandboxRouteDeps {
  page: string;
  /** The secret every sandbox request must carry (`?token=` or the cookie the page sets); the start log prints it in the page's URL. */
  token: string;
  actions: ReturnType<typeof createSandboxActions>;
  /** The page's state for one user. */
  view(user: SandboxUser): SandboxView;
  version(): number;
  respond(id: string, body: unknown): { status: number; error?: string; errors?: string[] };
  dismiss(user: SandboxUser, note: string): boolean;
  closeModal(user: SandboxUser, viewId: string): void;
  defaultUser: SandboxUser;
}

/** The sandbox's HTTP routes on the bot's own server: the page, its state, and what its buttons and boxes do. */
export function sandboxRoutes(deps: SandboxRouteDeps): Route[] {
  const script = /<script>([\s\S]*?)<\/script>/.exec(deps.page)?.[1] ?? '';
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${createHash('sha256').update(script).digest('base64')}'`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const userOf = (req: IncomingMessage): SandboxUser => {
    const id = new URL(req.url ?? '/', 'http://sandbox').searchParams.get('as') ?? '';
    return USER_ID.test(id) ? { id, name: id === deps.defaultUser.id ? deps.defaultUser.name : id.toLowerCase() } : deps.defaultUser;
  };

  // One cookie per port, so two sandboxes on one machine do not overwrite each other's.
  const cookieName = (req: IncomingMessage) => `switchboard_sandbox_${req.socket.localPort ?? 0}`;
  const queryToken = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://sandbox').searchParams.get('token') ?? undefined;
  const cookieToken = (req: IncomingMessage) => {
    const name = cookieName(req);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
    return undefined;
  };

  /**
   * Every sandbox route: this machine only (no proxy), and the token. Behind a reverse proxy on
   * the same host the peer is loopback and the Host may be rewritten to 127.0.0.1, so only the
   * token, which only the start log shows, tells the person at this machine from anyone else.
   */
  const local = (handler: Handler, options: { navigation?: boolean } = {}): Handler => (req, res) => {
    const refusal = refuseNonLocal(req, options);
    if (refusal) return sendJson(res, 403, { error: refusal });
    if (!isSandboxToken(queryToken(req), deps.token) && !isSandboxToken(cookieToken(req), deps.token)) {
      return sendJson(res, 403, { error: "the sandbox needs its token: open the URL Switchboard's start log shows (http://localhost:<port>/sandbox?token=…)" });
    }
    return handler(req, res);
  };

  const post = <T extends z.ZodType>(schema: T, run: (user: SandboxUser, body: z.output<T>, res: ServerResponse) => Promise<void> | void): Handler =>
    local(async (req, res) => {
      let body: unknown;
      try {
        body = await readJsonBody(req);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return refuseAndClose(res, 413, { error: error.message });
        return sendJson(res, 400, { error: error instanceof Error ? error.message : 'invalid body' });
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) return sendJson(res, 400, { error: 'invalid request' });
      await run(userOf(req), parsed.data, res);
    });

  return [
    {
      method: 'GET',
      path: '/',
      handler: local((req, res) => {
        const query = (req.url ?? '/').split('?')[1];
        res.writeHead(302, { location: `/sandbox${query ? `?${query}` : ''}` }).end();
      }, { navigation: true }),
    },
    {
      method: 'GET',
      path: '/sandbox',
      handler: local((req, res) => {
        const token = queryToken(req);
        // The page's own requests and later visits without the token in the URL carry it as a cookie.
        const cookie = token !== undefined ? { 'set-cookie': `${cookieName(req)}=${deps.token}; Path=/; HttpOnly; SameSite=Strict` } : {};
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...cookie });
        res.end(deps.page);
      }, { navigation: true }),
    },
    {
      method: 'GET',
      path: '/sandbox/state',
      handler: local((req, res) => {
        const since = new URL(req.url ?? '/', 'http://sandbox').searchParams.get('since');
        if (since !== null && Number(since) === deps.version()) return void res.writeHead(204).end();
        sendJson(res, 200, deps.view(userOf(req)));
      }),
    },
    { method: 'POST', path: '/sandbox/command', handler: post(CommandRequest, async (user, body, res) => sendJson(res, 200, await deps.actions.command(user, body))) },
    { method: 'POST', path: '/sandbox/click', handler: post(ClickRequest, async (user, body, res) => sendJson(res, 200, await deps.actions.click(user, body))) },
    { method: 'POST', path: '/sandbox/submit', handler: post(SubmitRequest, async (user, body, res) => sendJson(res, 200, await deps.actions.submit(user, body))) },
    {
      method: 'POST',
      path: '/sandbox/close',
      handler: post(SubmitRequest.pick({ viewId: true }), (user, body, res) => {
        deps.closeModal(user, body.viewId);
        sendJson(res, 200, { ok: true });
      }),
    },
    {
      method: 'POST',
      path: '/sandbox/dismiss',
      handler: post(ClickRequest.pick({ note: true }), (user, body, res) => sendJson(res, 200, { ok: body.note ? deps.dismiss(user, body.note) : false })),
    },
    {
      // The response_url of every command and click: where the bot's ephemeral and in-channel answers arrive.
      method: 'POST',
      path: '/sandbox/response',
      handler: local(async (req, res) => {
        const id = new URL(req.url ?? '/', 'http://sandbox').searchParams.get('id') ?? '';
        let body: unknown;
        try {
          body = await readJsonBody(req);
        } catch (error) {
          if (error instanceof BodyTooLargeError) return refuseAndClose(res, 413, { error: error.message });
          return void res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        }
        const outcome = deps.respond(id, body);
        if (outcome.status === 200) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        sendJson(res, outcome.status, { ok: false, error: outcome.error, ...(outcome.errors ? { errors: outcome.errors } : {}) });
      }),
    },
  ];
}
