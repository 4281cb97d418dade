import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { createTempDatabase } from '../helpers/temp-database.js';

let switchboard: Switchboard;
let database: Awaited<ReturnType<typeof createTempDatabase>>;
let proxy: Server;
let proxyUrl = '';
let token = '';

/**
 * nginx's `location / { proxy_pass http://127.0.0.1:<port>; }` with nothing else: the request
 * reaches Switchboard from loopback with Host rewritten to 127.0.0.1:<port> and no forwarding
 * headers, so nothing but the token tells it from a request made on this machine.
 */
function startPlainProxy(target: number): Promise<Server> {
  const server = createServer((req, res) => {
    const headers = { ...req.headers, host: `127.0.0.1:${target}` };
    const upstream = httpRequest({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  database = await createTempDatabase('sb_sandbox_access');
  const env = parseEnv({ PORT: '0', DATABASE_URL: database.url, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const catalog = parseCatalog('version: 1\nroles:\n  admin:\n    users: [U0ADMIN001]\n    permissions: [operate]\nservices:\n  api-gateway:\n    name: Gateway\n    health: []\n', 'sandbox-access.yml', {});
  switchboard = await startSwitchboard({ env, catalog, logger: pino({ level: 'silent' }) });
  token = new URL(switchboard.sandboxUrl!).searchParams.get('token')!;
  proxy = await startPlainProxy(switchboard.port);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await switchboard?.stop(2_000);
  await database?.drop();
});

const json = { 'content-type': 'application/json' };
const ROUTES: { method: 'GET' | 'POST'; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/sandbox' },
  { method: 'GET', path: '/sandbox/state?as=U0ADMIN001' },
  { method: 'POST', path: '/sandbox/command?as=U0ADMIN001', body: { channel: '#ops', text: 'health api-gateway' } },
  { method: 'POST', path: '/sandbox/click?as=U0ADMIN001', body: { channel: '#ops', ts: '1.1', blockId: 'b', actionId: 'a' } },
  { method: 'POST', path: '/sandbox/submit', body: { viewId: 'V1', values: {} } },
  { method: 'POST', path: '/sandbox/close', body: { viewId: 'V1' } },
  { method: 'POST', path: '/sandbox/dismiss', body: { note: 'n' } },
  { method: 'POST', path: '/sandbox/response?id=x', body: { text: 'hi' } },
];
const send = (base: string, route: (typeof ROUTES)[number], extra: { query?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${base}${route.path}${extra.query ? (route.path.includes('?') ? '&' : '?') + extra.query : ''}`, {
    method: route.method,
    redirect: 'manual',
    headers: { ...(route.body ? json : {}), ...extra.headers },
    ...(route.body ? { body: JSON.stringify(route.body) } : {}),
  });

describe('the sandbox', () => {
  it('is given out as http://localhost:<port>/sandbox?token=…', () => {
    expect(switchboard.sandboxUrl).toBe(`http://localhost:${switchboard.port}/sandbox?token=${token}`);
  });

  it.each(ROUTES)('refuses $method $path without the token', async (route) => {
    const res = await send(switchboard.url, route);
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/token/);
  });

  it.each(ROUTES)('refuses $method $path with a wrong token', async (route) => {
    expect((await send(switchboard.url, route, { query: `token=${token.slice(0, -1)}x` })).status).toBe(403);
  });

  it('refuses everything through a same-host proxy that rewrites Host, even ?as= an admin with a click', async () => {
    for (const route of ROUTES) expect((await send(proxyUrl, route)).status).toBe(403);
    const { rows } = await switchboard.db.query('SELECT ref FROM runs');
    expect(rows).toEqual([]);
  });

  it.each(['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'via'])('refuses a request carrying %s, even with the token', async (header) => {
    const res = await send(switchboard.url, ROUTES[2]!, { query: `token=${token}`, headers: { [header]: '127.0.0.1' } });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/proxy/);
  });

  it('serves every route with the token, and keeps it in a cookie for the page', async () => {
    const page = await send(switchboard.url, ROUTES[1]!, { query: `token=${token}` });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const state = await send(switchboard.url, ROUTES[2]!, { headers: { cookie: cookie.split(';')[0]! } });
    expect(state.status).toBe(200);
    const home = await send(switchboard.url, ROUTES[0]!, { query: `token=${token}` });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe(`/sandbox?token=${token}`);
  });

  it('closes the connection of an oversize body', async () => {
    const res = await fetch(`${switchboard.url}/sandbox/command?token=${token}`, { method: 'POST', headers: json, body: JSON.stringify({ channel: '#ops', text: 'x'.repeat(100 * 1024) }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
  });
});
