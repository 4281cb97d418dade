/**
 * Switchboard in Slack Socket Mode, end to end: the real entry point (`startSwitchboard`) with
 * SLACK_APP_TOKEN set, against a fake Socket Mode (Web API + WebSocket) and a response_url recorder.
 * Only the network edge is fake; Bolt, @slack/socket-mode and undici's WebSocket client are real.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/app/switchboard.js';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { slashCommandPayload, startFakeSocketMode, type FakeSocketMode, type SocketModeLink } from '../fakes/fake-socket-mode.js';
import { startResponseUrlRecorder, type ResponseUrlRecorder } from '../fakes/response-url-recorder.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const BOT_TOKEN = 'xoxb-socket-mode-bot-token';
const APP_TOKEN = 'xapp-1-A0SOCKET01-0000000000-socketmodeapptoken';
// Handles a leak would leave behind: sockets, servers and timers (Bolt's reconnect timer, the close-handshake timer).
const HANDLE_KINDS = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];

let baseline: Record<string, number>;
let upstream: Server;
let fake: FakeSocketMode;
let responses: ResponseUrlRecorder;
let database: Awaited<ReturnType<typeof createTempDatabase>>;
let switchboard: Switchboard;
let stopped = false;
let cleaned: Promise<void> | undefined;

function countHandles(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(HANDLE_KINDS.map((kind) => [kind, 0]));
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]! += 1;
  return counts;
}

beforeAll(async () => {
  baseline = countHandles();
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'healthy' }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  [fake, responses, database] = await Promise.all([
    startFakeSocketMode({ appToken: APP_TOKEN, botToken: BOT_TOKEN }),
    startResponseUrlRecorder(),
    createTempDatabase('sb_socket'),
  ]);
  const env = parseEnv({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: fake.apiUrl,
    PORT: '0',
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const catalog = parseCatalog(
    `
version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - name: gateway
        kind: http
        url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}/health
        expect: { status: 200, json: { status: healthy } }
`,
    'socket-mode-catalog.yml',
    {},
  );
  switchboard = await startSwitchboard({ env, catalog, logger: pino({ level: env.LOG_LEVEL }) });
});

/** Closes everything but Switchboard, once. */
const cleanUp = () =>
  (cleaned ??= (async () => {
    await Promise.all([fake?.close(), responses?.close(), new Promise((resolve) => upstream?.close(resolve))]);
    await database?.drop();
  })());

/** Handles beyond those open before the test file started, once they settle (waits up to timeoutMs for them to go). */
async function leakedHandles(timeoutMs: number): Promise<Record<string, number>> {
  const excess = () => Object.fromEntries(Object.entries(countHandles()).filter(([kind, n]) => n > (baseline[kind] ?? 0)));
  const deadline = Date.now() + timeoutMs;
  // Sampled between timers, so the sampling's own timer is never counted.
  while (Object.keys(excess()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return excess();
}

/** The promise's value, or a rejection after ms; the timer is cleared either way so it is not counted as a leak. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

afterAll(async () => {
  if (!stopped) await switchboard?.stop(2_000);
  await cleanUp();
});

/** The connection the app holds now: the latest one it opened. */
const current = (): Promise<SocketModeLink> => fake.waitForLink(Math.max(fake.links.length - 1, 0));

const askForHelp = (link: SocketModeLink, responseId: string) =>
  link.deliver('slash_commands', slashCommandPayload({ text: 'help', response_url: responses.url(responseId) }));

describe('Socket Mode', () => {
  it('connects with the app-level token and serves the operations routes on PORT, but not /slack/events', async () => {
    const link = await fake.waitForLink();
    expect(link.isOpen).toBe(true);
    expect(switchboard.slack?.eventsHandler).toBeUndefined();

    // The app-level token only ever travels in the Authorization header, and only to apps.connections.open.
    const opens = fake.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opens).toEqual([expect.objectContaining({ tokenIn: 'header', token: APP_TOKEN, response: expect.objectContaining({ ok: true }) })]);
    expect(fake.calls.filter((c) => c.token === APP_TOKEN && c.method !== 'apps.connections.open')).toEqual([]);
    expect(fake.calls.filter((c) => c.method === 'auth.test')).toEqual([expect.objectContaining({ token: BOT_TOKEN, response: expect.objectContaining({ ok: true }) })]);

    const healthz = await fetch(`${switchboard.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'alive' });
    const readyz = await fetch(`${switchboard.url}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ status: 'ready', store: 'postgres' });
    const metrics = await fetch(`${switchboard.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);

    const events = await fetch(`${switchboard.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ command: '/ops', text: 'help' }).toString(),
    });
    expect(events.status).toBe(404);
  });

  it('answers /ops help in the acknowledgement of the envelope', async () => {
    const { envelopeId, ack } = askForHelp(await current(), 'help');
    const acked = await ack;
    expect(acked.envelope_id).toBe(envelopeId);
    expect(acked.elapsedMs).toBeLessThan(3_000);
    expect(acked.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/ops health [service]') });
    expect(acked.payload?.text).toContain('*Switchboard* runs your runbooks from Slack.');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(responses.received.filter((r) => r.path.endsWith('/help'))).toEqual([]);
  });

  it('acknowledges /ops health at once and answers through response_url', async () => {
    const link = await current();
    const { ack } = link.deliver('slash_commands', slashCommandPayload({ text: 'health api-gateway', response_url: responses.url('gw'), user_id: 'U0OPERATOR' }));
    const acked = await ack;
    expect(acked.elapsedMs).toBeLessThan(3_000);
    expect(acked.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Running') });

    const answer = await responses.waitFor((r) => r.path.endsWith('/gw'), 10_000);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(answer.body.text).toMatch(/\*Resilient API Gateway\* \(`api-gateway`\)/);
    expect(answer.body.text).toMatch(/✓ gateway .*HTTP 200/);

    const { rows } = await switchboard.db.query<{ action_id: string; actor_id: string; origin: string; status: string }>(
      "SELECT action_id, actor_id, origin, status FROM runs WHERE target = 'api-gateway'",
    );
    expect(rows).toEqual([{ action_id: 'service.health', actor_id: 'U0OPERATOR', origin: 'slash', status: 'succeeded' }]);
  });

  it('keeps one connection alive with pings both ways', async () => {
    const link = await current();
    await link.ping('are you there');
    // @slack/socket-mode pings every clientPingTimeout / 3 (about 1.7 s) and drops a link whose pongs stop;
    // it hears pongs through undici's diagnostics channel, and so does this test.
    let pongsToApp = 0;
    const onPong = () => (pongsToApp += 1);
    subscribe('undici:websocket:pong', onPong);
    try {
      await expect.poll(() => pongsToApp, { timeout: 5_000, interval: 100 }).toBeGreaterThan(0);
    } finally {
      unsubscribe('undici:websocket:pong', onPong);
    }
    expect(link.pingsFromApp).toBeGreaterThan(0);
    expect(link.isOpen).toBe(true);
    expect(fake.links).toHaveLength(1);
    expect(link.stray).toEqual([]);
  });

  it('reconnects with a fresh URL when Slack asks it to refresh the connection', async () => {
    const first = await current();
    const index = fake.links.length;
    first.requestDisconnect('refresh_requested');
    expect(await first.closed).toEqual({ initiatedBy: 'client', code: 1000, reason: '', clean: true });
    // @slack/socket-mode waits clientPingTimeout (5 s) before its first reconnect attempt.
    const second = await fake.waitForLink(index, 10_000);
    expect(second.ticket).not.toBe(first.ticket);
    expect(fake.calls.filter((c) => c.method === 'apps.connections.open' && c.response.ok)).toHaveLength(2);
    const acked = await askForHelp(second, 'help-after-refresh').ack;
    expect(acked.payload?.text).toContain('/ops health [service]');
  });

  it('closes the socket cleanly on stop(), does not reconnect, and leaves no handles behind', async () => {
    const link = await current();
    const linksAtStop = fake.links.length;
    await switchboard.stop(2_000);
    stopped = true;
    const closed = await within(link.closed, 3_000, 'the app did not close its socket within 3 s of stop()');
    expect(closed).toEqual({ initiatedBy: 'client', code: 1000, reason: '', clean: true });

    // No reconnect: Bolt's client would call apps.connections.open again after clientPingTimeout (5 s).
    const opensAtStop = fake.calls.filter((c) => c.method === 'apps.connections.open').length;
    await cleanUp();
    expect(await leakedHandles(3_000)).toEqual({});
    expect(fake.links).toHaveLength(linksAtStop);
    expect(fake.calls.filter((c) => c.method === 'apps.connections.open')).toHaveLength(opensAtStop);
  });
});
