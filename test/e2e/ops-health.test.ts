import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

let healthy: Server;
let hanging: ReturnType<typeof createTcpServer>;
const hangingSockets = new Set<Socket>();
let closedPort: number;
let t: TestSwitchboard;

const listen = (server: Server | ReturnType<typeof createTcpServer>) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

beforeAll(async () => {
  healthy = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'healthy', dependencies: { database: 'healthy', redis: 'healthy' } }));
  });
  // Accepts the connection and never answers: the 30-second hang of a stuck upstream.
  hanging = createTcpServer((socket) => {
    hangingSockets.add(socket);
    socket.setTimeout(30_000, () => socket.destroy());
  });
  const probe = createTcpServer();
  closedPort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  const [healthyPort, hangingPort] = await Promise.all([listen(healthy), listen(hanging)]);

  t = await startTestSwitchboard({
    catalogYaml: `
version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - name: gateway
        kind: http
        url: http://127.0.0.1:${healthyPort}/health
        expect: { status: 200, json: { status: healthy, "dependencies.*": healthy } }
      - { name: upstream, kind: http, url: "http://127.0.0.1:${hangingPort}/health", timeout: 2s }
      - { name: admin-port, kind: tcp, host: 127.0.0.1, port: ${closedPort} }
      - { name: redis, kind: redis, url: "${TEST_REDIS_URL}" }
      - { name: database, kind: postgres, url: "${TEST_DATABASE_URL}" }
  brownie-metadata:
    name: Brownie Metadata API
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:${healthyPort}/health" }
`,
  });
});

afterAll(async () => {
  await t?.close();
  for (const socket of hangingSockets) socket.destroy();
  await Promise.all([new Promise((r) => healthy?.close(r)), new Promise((r) => hanging?.close(r))]);
});

requires('redis')('/ops health end to end', () => {
  it('acknowledges within 3 s and answers through response_url once the hanging check times out', async () => {
    const started = Date.now();
    const ack = await t.slash('health api-gateway', { responseId: 'gw' });
    expect(ack.status).toBe(200);
    expect(ack.elapsedMs).toBeLessThan(3_000);
    expect(JSON.parse(ack.body)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Running') });

    const answer = await t.responses.waitFor((r) => r.path.endsWith('/gw'), 10_000);
    const elapsed = Date.now() - started;
    // The hanging check's timeout is 2 s: the answer comes after it, and long before the 30 s hang.
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(8_000);
    const text: string = answer.body.text;
    expect(answer.body).toMatchObject({ replace_original: true, response_type: 'ephemeral' });
    expect(text).toMatch(/✗ \*Resilient API Gateway\* \(`api-gateway`\) is unhealthy: 2 of 5 checks fail \(upstream, admin-port\)\n/);
    expect(text).toMatch(/✓ gateway .*HTTP 200/);
    expect(text).toMatch(/✗ upstream .*timed out after 2s/);
    expect(text).toMatch(/✗ admin-port .*refused/);
    expect(text).toMatch(/✓ redis/);
    expect(text).toMatch(/✓ database .*\d+\/\d+ connections/);

    const { rows } = await t.switchboard.db.query<{ action_id: string; target: string; actor_id: string; origin: string; status: string; summary: string }>(
      "SELECT action_id, target, actor_id, origin, status, summary FROM runs WHERE target = 'api-gateway'",
    );
    expect(rows).toEqual([
      { action_id: 'service.health', target: 'api-gateway', actor_id: 'U0OPERATOR', origin: 'slash', status: 'succeeded', summary: 'api-gateway is unhealthy: 2 of 5 checks fail (upstream, admin-port)' },
    ]);
  });

  it('summarizes every service with /ops health', async () => {
    const ack = await t.slash('health', { responseId: 'all' });
    expect(ack.status).toBe(200);
    const answer = await t.responses.waitFor((r) => r.path.endsWith('/all'), 10_000);
    expect(answer.body.text).toContain('Health of 2 services');
    expect(answer.body.text).toMatch(/✗ `api-gateway` — upstream: timed out after 2s; admin-port: .*refused/);
    expect(answer.body.text).toMatch(/✓ `brownie-metadata` — 1\/1 checks ok/);
  });

  it('answers typos at once, in the acknowledgement, without running anything', async () => {
    const verb = await t.slash('helth api-gateway', { responseId: 'typo1' });
    expect(JSON.parse(verb.body).text).toContain('Did you mean `health`');
    const service = await t.slash('health api-gatewy', { responseId: 'typo2' });
    expect(JSON.parse(service.body).text).toContain('Did you mean `api-gateway`');
    const help = await t.slash('help', { responseId: 'help' });
    expect(JSON.parse(help.body).text).toContain('/ops health [service]');
    await new Promise((r) => setTimeout(r, 200));
    expect(t.responses.received.filter((r) => /typo|help/.test(r.path))).toEqual([]);
  });
});
