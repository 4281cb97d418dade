import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthChecker, formatCheckLine, HealthCheckConfig, summarize } from '../../src/integrations/health/index.js';

const checker = createHealthChecker();
const http = (name: string, url: string, extra: Record<string, unknown> = {}) =>
  HealthCheckConfig.parse({ name, kind: 'http', url, ...extra });

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const ROUTES: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/healthy': (_, res) => json(res, 200, { status: 'healthy', dependencies: { database: 'healthy', redis: 'healthy' } }),
  '/redis-down': (_, res) => json(res, 200, { status: 'healthy', dependencies: { database: 'healthy', redis: 'unhealthy' } }),
  '/degraded': (_, res) => json(res, 200, { status: 'degraded', dependencies: {} }),
  '/unavailable': (_, res) => json(res, 503, { status: 'unhealthy' }),
  '/not-json': (_, res) => res.writeHead(200).end('<html>ok</html>'),
  '/huge': (_, res) => json(res, 200, { status: 'healthy', padding: 'x'.repeat(2_000_000) }),
  '/moved': (_, res) => res.writeHead(302, { location: '/healthy' }).end(),
  '/basic': (req, res) => {
    const expected = `Basic ${Buffer.from('ops:hunter2').toString('base64')}`;
    if (req.headers.authorization === expected) json(res, 200, { status: 'healthy' });
    else res.writeHead(401).end();
  },
  '/keyed': (req, res) => res.writeHead(req.headers['x-api-key'] === 'k-123' ? 204 : 403).end(),
};

let server: Server;
let base: string;
/** Accepts requests and answers only after 30 s: the "hung upstream" operators meet. */
let hangingServer: Server;
let hangingUrl: string;
const hangTimers = new Set<NodeJS.Timeout>();
let closedPort: number;

async function listen(target: Server | ReturnType<typeof createNetServer>): Promise<number> {
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  return (target.address() as AddressInfo).port;
}

beforeAll(async () => {
  server = createServer((req, res) => (ROUTES[req.url ?? ''] ?? ((_, r) => r.writeHead(404).end()))(req, res));
  base = `http://127.0.0.1:${await listen(server)}`;

  hangingServer = createServer((_, res) => {
    const timer = setTimeout(() => json(res, 200, { status: 'healthy' }), 30_000);
    hangTimers.add(timer);
  });
  hangingUrl = `http://127.0.0.1:${await listen(hangingServer)}/health`;

  // A port that was just free and is now closed: connecting is refused.
  const probe = createNetServer();
  closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  for (const timer of hangTimers) clearTimeout(timer);
  for (const target of [server, hangingServer]) {
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  }
});

describe('http health checks against local servers', () => {
  it('passes a healthy endpoint with status and JSON expectations', async () => {
    const [result] = await checker.check([
      http('api', `${base}/healthy`, { expect: { status: 200, json: { status: 'healthy', 'dependencies.*': 'healthy' } } }),
    ]);
    expect(result).toMatchObject({ name: 'api', kind: 'http', status: 'ok', detail: 'HTTP 200' });
    expect(result!.reason).toBeUndefined();
    expect(formatCheckLine(result!)).toMatch(/^✓ api — \d+ms — HTTP 200$/);
  });

  it('names the unhealthy dependency under a wildcard', async () => {
    const [result] = await checker.check([http('api', `${base}/redis-down`, { expect: { json: { status: 'healthy', 'dependencies.*': 'healthy' } } })]);
    expect(result).toMatchObject({ status: 'fail', detail: 'HTTP 200', reason: 'dependencies.redis is "unhealthy", expected "healthy"' });
  });

  it('reports a wrong top-level value and an empty wildcard together', async () => {
    const [result] = await checker.check([http('api', `${base}/degraded`, { expect: { json: { status: 'healthy', 'dependencies.*': 'healthy' } } })]);
    expect(result).toMatchObject({ status: 'fail', reason: 'status is "degraded", expected "healthy" (+1 more)' });
  });

  it('fails on 503 with the expected status in the reason', async () => {
    const results = await checker.check([
      http('explicit', `${base}/unavailable`, { expect: { status: 200 } }),
      http('default', `${base}/unavailable`),
    ]);
    expect(results.map(({ status, reason }) => [status, reason])).toEqual([
      ['fail', 'HTTP 503 (expected 200)'],
      ['fail', 'HTTP 503 (expected 2xx)'],
    ]);
  });

  it('accepts a non-2xx status when it is the expected one', async () => {
    const [result] = await checker.check([http('api', `${base}/unavailable`, { expect: { status: 503 } })]);
    expect(result).toMatchObject({ status: 'ok', detail: 'HTTP 503' });
  });

  it('reports a body that is not JSON, and one over 1 MB, without buffering it', async () => {
    const results = await checker.check([
      http('html', `${base}/not-json`, { expect: { json: { status: 'healthy' } } }),
      http('huge', `${base}/huge`, { expect: { json: { status: 'healthy' } } }),
    ]);
    expect(results.map(({ reason }) => reason)).toEqual(['response is not JSON (HTTP 200)', 'response body larger than 1 MB']);
  });

  it('reports a redirect instead of following it', async () => {
    const [result] = await checker.check([http('api', `${base}/moved`)]);
    expect(result).toMatchObject({ status: 'fail', reason: 'HTTP 302 (expected 2xx)' });
  });

  it('sends configured headers, and URL credentials as basic auth, never showing the password', async () => {
    const results = await checker.check([
      http('keyed', `${base}/keyed`, { method: 'HEAD', headers: { 'X-Api-Key': 'k-123' } }),
      http('basic', `http://ops:hunter2@127.0.0.1:${new URL(base).port}/basic`),
      http('wrong', `http://ops:wrong-pass@127.0.0.1:${new URL(base).port}/basic`),
    ]);
    expect(results.map(({ status, detail }) => [status, detail])).toEqual([['ok', 'HTTP 204'], ['ok', 'HTTP 200'], ['fail', 'HTTP 401']]);
    expect(JSON.stringify(results)).not.toMatch(/hunter2|wrong-pass/);
  });

  it('fails with "connection refused" on a closed port', async () => {
    const [result] = await checker.check([http('api', `http://127.0.0.1:${closedPort}/health`, { timeout: '2s' })]);
    expect(result).toMatchObject({ status: 'fail', reason: `connection refused (127.0.0.1:${closedPort})` });
  });

  it('times out a hanging server at its own timeout without delaying the other checks', async () => {
    const started = Date.now();
    const results = await checker.check([
      http('hung', hangingUrl, { timeout: '1s' }),
      http('api', `${base}/healthy`),
      HealthCheckConfig.parse({ name: 'port', kind: 'tcp', host: '127.0.0.1', port: closedPort }),
    ]);
    const elapsed = Date.now() - started;

    expect(results.map(({ name }) => name)).toEqual(['hung', 'api', 'port']);
    expect(results[0]).toMatchObject({ status: 'fail', reason: 'timed out after 1s' });
    expect(results[0]!.latencyMs).toBeGreaterThanOrEqual(950);
    expect(results[1]).toMatchObject({ status: 'ok', detail: 'HTTP 200' });
    // The healthy check finished on its own, not when the hung one gave up.
    expect(results[1]!.latencyMs).toBeLessThan(900);
    expect(results[2]).toMatchObject({ status: 'fail', reason: `connection refused (127.0.0.1:${closedPort})` });
    expect(elapsed).toBeLessThan(2_000);
    expect(summarize(results)).toBe('fail');
    expect(formatCheckLine(results[0]!)).toMatch(/^✗ hung — 1\.\ds — timed out after 1s$/);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const [result] = await checker.check([http('hung', hangingUrl, { timeout: '30s' })], { signal: controller.signal });
    expect(result).toMatchObject({ status: 'fail', reason: 'cancelled before it finished' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not start checks for an already aborted signal', async () => {
    const results = await checker.check([http('a', `${base}/healthy`), http('b', hangingUrl)], { signal: AbortSignal.abort() });
    expect(results.map(({ status, reason }) => [status, reason])).toEqual([
      ['fail', 'cancelled before it finished'],
      ['fail', 'cancelled before it finished'],
    ]);
  });

  it('measures latency with the injected clock', async () => {
    let tick = 0;
    const [result] = await createHealthChecker({ now: () => (tick += 40) }).check([http('api', `${base}/healthy`)]);
    expect(result!.latencyMs).toBe(40);
  });
});
