import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRestarter, RestartConfig } from '../../src/integrations/restart/index.js';

const TOKEN = 'ci-token-5a4b3c2d1e';
const signal = () => AbortSignal.timeout(30_000);

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const received: Received[] = [];
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();
let server: Server;
let base: string;

const ROUTES: Record<string, (res: ServerResponse) => void> = {
  '/hooks/restart': (res) => res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}'),
  '/hooks/created': (res) => res.writeHead(201).end(),
  '/hooks/broken': (res) =>
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`pipeline failed: token ${TOKEN} cannot trigger job selextract-restart\n${'x'.repeat(5_000)}`),
  '/hooks/moved': (res) => res.writeHead(302, { location: '/hooks/restart' }).end(),
  '/hooks/slow': (res) => {
    const timer = setTimeout(() => res.writeHead(200).end(), 10_000);
    timers.add(timer);
  },
};

async function failure(pending: Promise<unknown>): Promise<Error & { options?: { hint?: string } }> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restart to fail');
}

const hook = (path: string, extra: Record<string, unknown> = {}) => RestartConfig.parse({ kind: 'webhook', url: `${base}${path}`, ...extra });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      (ROUTES[new URL(req.url ?? '/', 'http://x').pathname] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received.length = 0;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

describe('webhook restart', () => {
  it('posts the configured headers and JSON body through the injected fetch', async () => {
    const calls: string[] = [];
    const restarter = createRestarter({
      fetchImpl: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    const config = hook('/hooks/restart?ref=main', { headers: { Authorization: `Bearer ${TOKEN}`, 'X-Source': 'switchboard' }, body: { service: 'selextract', replicas: [1, 2] } });
    const outcome = await restarter.restart(config, { signal: signal() });

    expect(outcome).toEqual({ detail: `webhook POST ${base}/hooks/restart answered HTTP 202`, targets: [`${base}/hooks/restart`] });
    expect(calls).toEqual([`${base}/hooks/restart?ref=main`]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/hooks/restart?ref=main' });
    expect(received[0]?.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'x-source': 'switchboard', 'content-type': 'application/json' });
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ service: 'selextract', replicas: [1, 2] });
  });

  it('sends a bodiless request for GET and accepts the listed status', async () => {
    const outcome = await createRestarter().restart(hook('/hooks/created', { method: 'GET', expectStatus: [201] }), { signal: signal() });
    expect(outcome.detail).toBe(`webhook GET ${base}/hooks/created answered HTTP 201`);
    expect(received[0]).toMatchObject({ method: 'GET', body: '' });
    expect(received[0]?.headers['content-type']).toBeUndefined();
  });

  it('fails on 500 with the status and a short body excerpt, token removed', async () => {
    const config = hook('/hooks/broken', { headers: { Authorization: `Bearer ${TOKEN}` } });
    const error = await failure(createRestarter().restart(config, { signal: signal() }));
    expect(error.message).toMatch(new RegExp(`^The restart webhook POST ${base}/hooks/broken answered HTTP 500: pipeline failed: token \\*\\*\\* cannot trigger job selextract-restart x+…$`));
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).not.toContain(TOKEN);
  });

  it('treats a status outside expectStatus as a failure', async () => {
    const error = await failure(createRestarter().restart(hook('/hooks/restart', { expectStatus: [200, 204] }), { signal: signal() }));
    expect(error.message).toBe(`The restart webhook POST ${base}/hooks/restart answered HTTP 202: {"queued":true}`);
    expect(error.options?.hint).toBe('Expected status 200, 204.');
  });

  it('does not follow a redirect', async () => {
    const error = await failure(createRestarter().restart(hook('/hooks/moved'), { signal: signal() }));
    expect(error.message).toBe(`The restart webhook POST ${base}/hooks/moved answered HTTP 302`);
    expect(received.map((r) => r.url)).toEqual(['/hooks/moved']);
  });

  it('gives up at the timeout', async () => {
    const started = Date.now();
    const error = await failure(createRestarter().restart(hook('/hooks/slow', { timeout: '300ms' }), { signal: signal() }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toBe(`The restart webhook POST ${base}/hooks/slow timed out after 300ms`);
  });

  it('says when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = RestartConfig.parse({ kind: 'webhook', url: `http://127.0.0.1:${port}/hooks/restart` });
    const error = await failure(createRestarter().restart(config, { signal: signal() }));
    expect(error.message).toBe(`The restart webhook http://127.0.0.1:${port}/hooks/restart refused the connection`);
  });
});
