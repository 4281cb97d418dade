import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { signSlackRequest, slashCommandBody } from '../helpers/slack-requests.js';
import { SIGNING_SECRET, startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({ catalogYaml: 'version: 1\nservices:\n  api-gateway:\n    name: Gateway\n    health: []\n' });
});

afterAll(async () => {
  await t?.close();
});

const runCount = async () => Number((await t.switchboard.db.query<{ n: string }>('SELECT count(*) AS n FROM runs')).rows[0]!.n);

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A POST with node:http through `agent`, so a test sees what happens to a kept-alive connection. */
function post(agent: Agent, path: string, body: string | Buffer, headers: Record<string, string>, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(`${t.switchboard.url}${path}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // The server may close the connection after answering, before the whole body is written.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(body);
  });
}

describe('a refused oversize body', () => {
  it('is answered 413 with Connection: close, and a keep-alive client reusing the connection is answered next', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const huge = `payload=${'x'.repeat(1024 * 1024 + 10)}`;
      const refused = await post(agent, '/slack/events', huge, { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(huge, SIGNING_SECRET) });
      expect(refused.status).toBe(413);
      expect(refused.headers.connection).toBe('close');
      const body = slashCommandBody({ text: 'help', response_url: t.responses.url('after-413') });
      const next = await post(agent, '/slack/events', body, { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SIGNING_SECRET) });
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body).text).toContain('/ops health');
    } finally {
      agent.destroy();
    }
  });

  it('closes the connection of a body without a length (Slack always sends one)', async () => {
    const res = await new Promise<RawAnswer>((resolve, reject) => {
      const req = httpRequest(`${t.switchboard.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' } }, (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: '' }));
      });
      req.on('error', reject);
      req.write('payload=');
      req.end();
    });
    expect(res.status).toBe(411);
    expect(res.headers.connection).toBe('close');
  });
});

describe('a replayed request', () => {
  it('runs once: the same signed bytes within the window are refused', async () => {
    const before = await runCount();
    const body = slashCommandBody({ text: 'health api-gateway', response_url: t.responses.url('replayed') });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SIGNING_SECRET) };
    const send = () => fetch(`${t.switchboard.url}/slack/events`, { method: 'POST', headers, body });
    expect((await send()).status).toBe(200);
    await eventually('the first run recorded', async () => (await runCount()) === before + 1);
    const replays = await Promise.all([send(), send(), send()]);
    expect(replays.map((r) => r.status)).toEqual([401, 401, 401]);
    // Long enough for a replay that slipped through to have recorded its run too.
    await t.responses.waitFor((r) => r.path === '/commands/replayed', 5_000);
    expect(await runCount()).toBe(before + 1);
    const { rows } = await t.switchboard.db.query('SELECT key FROM slack_requests_seen WHERE key = $1', [`sig:${headers['x-slack-signature']}`]);
    expect(rows).toHaveLength(1);
  });

  it('is refused across replicas too: the memory is the shared store', async () => {
    const body = slashCommandBody({ text: 'help', response_url: t.responses.url('replica') });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SIGNING_SECRET) };
    // What another replica recorded when it accepted the request.
    await t.switchboard.db.query(`INSERT INTO slack_requests_seen (key, expires_at) VALUES ($1, now() + interval '5 minutes')`, [`sig:${headers['x-slack-signature']}`]);
    const res = await fetch(`${t.switchboard.url}/slack/events`, { method: 'POST', headers, body });
    expect(res.status).toBe(401);
  });

  it('is accepted when an expired record of it was not yet cleaned up', async () => {
    const body = slashCommandBody({ text: 'help', response_url: t.responses.url('expired') });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SIGNING_SECRET) };
    await t.switchboard.db.query(`INSERT INTO slack_requests_seen (key, expires_at) VALUES ($1, now() - interval '1 second')`, [`sig:${headers['x-slack-signature']}`]);
    const res = await fetch(`${t.switchboard.url}/slack/events`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
  });
});
