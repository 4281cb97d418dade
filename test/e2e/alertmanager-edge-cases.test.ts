/**
 * POST /alertmanager through the real HTTP server of a running Switchboard, with the outbox sender
 * writing to the fake Slack: duplicates, malformed and unauthenticated bodies, hostile label text,
 * huge groups, and a Slack that rate-limits, fails or cannot be reached.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../fakes/fake-slack.js';
import { firing, notification, resolved, type WireAlert, type WireNotification } from '../fixtures/alertmanager/notifications.js';
import { appliedIncident } from '../helpers/applied-incident.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const TOKEN = 'e2e-edge-webhook-token-0123456789';
const GATEWAY = 'C0GATEWAY';

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({
    env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN },
    catalogYaml: `
version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - { name: gateway, kind: tcp, host: 127.0.0.1, port: 9, timeout: 1s }
defaultRoute: { channel: C0ALERTS }
routes:
  - name: gateway
    match: { service: api-gateway }
    channel: ${GATEWAY}
    buttons:
      "*": [service.health]
`,
  });
});

afterAll(async () => {
  await t?.close();
});

let groups = 0;
/** A group key no other test uses, shaped like Alertmanager's. */
const groupKey = (name: string) => `{}/{service="api-gateway"}:{alertname="HighErrorRate", run="${name}-${++groups}"}`;

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function postAlertmanager(body: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<Answer> {
  const res = await fetch(`${t.switchboard.url}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const send = async (wire: WireNotification): Promise<number> => {
  const answer = await postAlertmanager(JSON.stringify(wire));
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  expect(answer.json).toEqual({ ok: true });
  return appliedIncident(t.switchboard.db, wire.groupKey);
};


async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.switchboard.db.query<{ n: string | number }>(sql, params);
  return Number(rows[0]!.n);
}

/** Every outbox row sent (none pending, none failed): what was enqueued reached Slack. */
async function outboxDelivered(): Promise<void> {
  await eventually('the outbox drained', async () => (await count("SELECT count(*) AS n FROM outbox WHERE state = 'pending'")) === 0);
  expect(await t.switchboard.db.query("SELECT kind, last_error FROM outbox WHERE state = 'failed'").then((r) => r.rows)).toEqual([]);
}

const posts = (): RecordedCall[] => t.slack.callsTo('chat.postMessage');
const parentPosts = (incident: number): RecordedCall[] => posts().filter((c) => c.args.thread_ts === undefined && String(c.args.text).endsWith(`(#${incident})`));
const parentTsOf = (incident: number): Promise<string> =>
  eventually(`the parent message of #${incident}`, () => parentPosts(incident)[0]?.response.ts as string | undefined);
/** Every Slack call about one incident: its parent's post and edits, and its thread replies. */
const callsAbout = (parentTs: string): RecordedCall[] =>
  t.slack.calls.filter((c) => c.response.ts === parentTs || c.args.ts === parentTs || c.args.thread_ts === parentTs);

const alerts = (n: number, startsAt: string, prefix = 'fp'): WireAlert[] =>
  Array.from({ length: n }, (_, i) => firing(`${prefix}${String(i).padStart(4, '0')}`, startsAt, { pod: `gateway-${i}` }));

describe('duplicates', () => {
  it('opens one incident with one parent post for the same notification five times in a row and five times at once', async () => {
    const sequential = notification([firing('seq1', '2026-03-01T10:00:00Z')], { groupKey: groupKey('seq') });
    const numbers: number[] = [];
    for (let i = 0; i < 5; i++) numbers.push(await send(sequential));
    expect(new Set(numbers).size).toBe(1);

    const concurrent = notification([firing('con1', '2026-03-01T10:00:00Z')], { groupKey: groupKey('con') });
    const together = await Promise.all(Array.from({ length: 5 }, () => send(concurrent)));
    expect(new Set(together).size).toBe(1);
    expect(together[0]).not.toBe(numbers[0]);

    await outboxDelivered();
    for (const [incident, key] of [
      [numbers[0]!, sequential.groupKey],
      [together[0]!, concurrent.groupKey],
    ] as const) {
      expect(await count('SELECT count(*) AS n FROM incidents WHERE group_key = $1', [key])).toBe(1);
      expect(await count('SELECT count(*) AS n FROM notifications WHERE group_key = $1', [key])).toBe(5);
      expect(parentPosts(incident)).toHaveLength(1);
      expect(parentPosts(incident)[0]!.args.channel).toBe(GATEWAY);
      // A repeat teaches nothing: no reply, no edit.
      const ts = parentPosts(incident)[0]!.response.ts as string;
      expect(callsAbout(ts).map((c) => c.method)).toEqual(['chat.postMessage']);
    }
  });

  it('stores a delivery while every connection of the main pool is busy, and applies it once they are free', async () => {
    // Hold all ten connections of the main pool in open transactions.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered = 0;
    const held = Array.from({ length: 10 }, () =>
      t.switchboard.db.transaction(async () => {
        entered += 1;
        await released;
      }),
    );
    try {
      await eventually('all ten connections held', () => entered === 10);
      const wire = notification([firing('f-busy', '2026-03-01T10:00:00Z', { service: 'api-gateway' })], { groupKey: groupKey('busy-pool') });
      const answer = await postAlertmanager(JSON.stringify(wire));
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    } finally {
      release();
      await Promise.all(held);
    }
    expect(await count('SELECT count(*) AS n FROM notifications WHERE group_key LIKE $1', ['%busy-pool%'])).toBe(1);
    await eventually('the incident', async () => (await count('SELECT count(*) AS n FROM incidents WHERE group_key LIKE $1', ['%busy-pool%'])) === 1);
  });
});

describe('requests Switchboard refuses', () => {
  const valid = () => notification([firing('bad1', '2026-03-01T10:00:00Z')], { groupKey: groupKey('bad') });
  let stored: number;
  beforeAll(async () => {
    stored = await count('SELECT count(*) AS n FROM notifications');
  });

  it('answers 400 naming the field for bodies that are not notifications', async () => {
    const notJson = await postAlertmanager('{"version": "4", "alerts": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ error: 'invalid_json', problems: [expect.stringMatching(/^body is not JSON/)] });

    const { groupKey: _, ...withoutGroupKey } = valid();
    const missingKey = await postAlertmanager(JSON.stringify(withoutGroupKey));
    expect(missingKey.status).toBe(400);
    expect(missingKey.json).toEqual({ error: 'invalid_notification', problems: ['groupKey: Required'] });

    const wire = valid();
    const { fingerprint: __, ...alert } = wire.alerts[0]!;
    const missingFingerprint = await postAlertmanager(JSON.stringify({ ...wire, alerts: [alert] }));
    expect(missingFingerprint.status).toBe(400);
    expect(missingFingerprint.json.problems).toEqual([expect.stringMatching(/^alerts\[0\]\.fingerprint: Required/)]);

    const badTime = await postAlertmanager(JSON.stringify({ ...wire, alerts: [{ ...wire.alerts[0]!, startsAt: 'yesterday' }] }));
    expect(badTime.status).toBe(400);
    expect(badTime.json.problems).toEqual([expect.stringMatching(/^alerts\[0\]\.startsAt: must be an RFC 3339 time/)]);

    const oldVersion = await postAlertmanager(JSON.stringify({ ...wire, version: '3' }));
    expect(oldVersion.status).toBe(400);
    expect(oldVersion.json.problems).toEqual([expect.stringMatching(/^version: must be "4"/)]);

    const notAnObject = await postAlertmanager('[]');
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.json.error).toBe('invalid_notification');

    expect(await count('SELECT count(*) AS n FROM notifications')).toBe(stored);
  });

  it('answers 401 without the token, with a wrong one, or with another scheme', async () => {
    const body = JSON.stringify(valid());
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${Buffer.from(`switchboard:${TOKEN}`).toString('base64')}` }, { authorization: TOKEN }];
    for (const headers of attempts) {
      const answer = await postAlertmanager(body, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.json).toEqual({ error: 'unauthorized' });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="switchboard"');
    }
    expect(await count('SELECT count(*) AS n FROM notifications')).toBe(stored);
  });

  it('answers 413 to a body over the limit, and keeps serving', async () => {
    const wire = valid();
    const huge = JSON.stringify({ ...wire, commonAnnotations: { description: 'x'.repeat(33 * 1024 * 1024) } });
    const answer = await rawPost(`${t.switchboard.url}/alertmanager`, huge, { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: 'payload_too_large', maxBytes: 32 * 1024 * 1024 });
    expect(await count('SELECT count(*) AS n FROM notifications')).toBe(stored);
    expect((await postAlertmanager(JSON.stringify(wire))).status).toBe(200);
  });
});

/** Posts with node:http, so a server that answers before reading the whole body is seen answering. */
function rawPost(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // The server closes the connection after its 413 without reading the rest: writing may then fail.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(body);
  });
}

describe('hostile text in labels and annotations', () => {
  it('sends Slack no live mention or link, but shows the text', async () => {
    const ALERTNAME = '<!channel> @here Down';
    const hostile = (fingerprint: string, extra: Record<string, string>): WireAlert => ({
      ...firing(fingerprint, '2026-03-01T10:00:00Z', { alertname: ALERTNAME, team: '<!channel>', owner: '<@U123>', note: '@here now', link: '<https://evil.example|x>', ...extra }),
      annotations: {
        summary: '<!channel> @here <@U123> wake up <https://evil.example|click me>',
        description: '<!here|here> <!everyone> @channel <#C123> <!subteam^S123> <mailto:a@evil.example|mail>',
        runbook_url: 'javascript:alert(1)',
      },
    });
    const group = { groupKey: groupKey('hostile'), groupLabels: { alertname: ALERTNAME, service: 'api-gateway' } };
    const first = hostile('inj1', { instance: '<https://evil.example|proxy>' });
    const incident = await send(notification([first], group));
    const ts = await parentTsOf(incident);
    // A second alert joins: its labels are listed in a thread reply and on the edited parent.
    await send(notification([first, hostile('inj2', { instance: '@channel <!here>' })], group));
    await outboxDelivered();

    const sent = callsAbout(ts);
    expect(sent.map((c) => c.method).sort()).toEqual(['chat.postMessage', 'chat.postMessage', 'chat.update']);
    for (const call of sent) {
      const wire = JSON.stringify({ text: call.args.text, blocks: call.args.blocks });
      // Only Switchboard's own markup is live: dates, and the links it builds from checked URLs.
      const live = [...wire.matchAll(/<[^<>]*>/g)].map((m) => m[0]);
      const own = /^<!date\^|^<http:\/\/(prometheus:9090|alertmanager:9093)\/[^|<>\s]*\|(Source|Alertmanager)>$/;
      expect(live.filter((token) => !own.test(token)), call.method).toEqual([]);
      expect(wire, call.method).not.toMatch(/@(here|channel|everyone)/);
      expect(wire).not.toContain('javascript:');
    }
    const parentNow = JSON.stringify(t.slack.message(GATEWAY, ts));
    expect(parentNow).toContain('&lt;!channel&gt; @\u200Dhere &lt;@\u200DU123&gt; wake up &lt;https://evil.example|click me&gt;');
    expect(t.slack.message(GATEWAY, ts)!.text).toBe(`🟡 FIRING [warning] &lt;!channel&gt; @\u200Dhere Down — api-gateway (#${incident})`);
    expect(parentNow).toContain('&lt;!everyone&gt;');
    const reply = sent.find((c) => c.args.thread_ts === ts)!;
    expect(JSON.stringify(reply.args.blocks)).toContain('instance=@\u200Dchannel &lt;!here&gt;');
  });
});

describe('a group of 500 alerts', () => {
  it('renders within Block Kit limits, on the parent and in the thread', async () => {
    const key = groupKey('big');
    const all = alerts(500, '2026-03-01T10:00:00Z', 'big');
    const incident = await send(notification(all, { groupKey: key }));
    const ts = await parentTsOf(incident);
    const half = all.map((a, i) => (i < 250 ? resolved(a, '2026-03-01T10:30:00Z') : a));
    await send(notification(half, { groupKey: key }));
    await outboxDelivered();

    expect(t.slack.rejected).toEqual([]);
    expect(JSON.stringify(parentPosts(incident)[0]!.args.blocks)).toContain('500 firing · 0 resolved');
    expect(JSON.stringify(t.slack.message(GATEWAY, ts)!.blocks)).toContain('250 firing · 250 resolved');
    const reply = callsAbout(ts).find((c) => c.args.thread_ts === ts)!;
    expect(reply.args.text).toBe('✅ 250 alerts resolved (250 still firing).');
    expect(JSON.stringify(reply.args.blocks)).toContain('…and 240 more');
  });
});

describe('when Slack misbehaves', () => {
  it('waits out a 429 as Retry-After says, then delivers everything', async () => {
    await outboxDelivered();
    t.slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 2 });
    const key = groupKey('limited');
    const a = firing('lim1', '2026-03-01T10:00:00Z');
    const incident = await send(notification([a], { groupKey: key }));
    await send(notification([a, firing('lim2', '2026-03-01T10:01:00Z')], { groupKey: key }));
    const ts = await parentTsOf(incident);
    await outboxDelivered();

    const limited = t.slack.rejected.filter((r) => r.error === 'ratelimited');
    expect(limited).toHaveLength(1);
    expect(String(limited[0]!.args.text)).toMatch(new RegExp(`\\(#${incident}\\)$`));
    const parent = parentPosts(incident)[0]!;
    expect(parentPosts(incident)).toHaveLength(1);
    // Retry-After is 2 s; a generous lower bound only.
    expect(parent.at - limited[0]!.at).toBeGreaterThanOrEqual(1_900);
    const replies = callsAbout(ts).filter((c) => c.args.thread_ts === ts);
    expect(replies.map((c) => c.args.text)).toEqual(['🔴 1 alert started firing (2 firing now).']);
    expect(JSON.stringify(t.slack.message(GATEWAY, ts)!.blocks)).toContain('2 firing · 0 resolved');
  });

  it('retries Slack 500s and delivers once', async () => {
    await outboxDelivered();
    t.slack.failNext('chat.postMessage', { status: 500 }, 2);
    const incident = await send(notification([firing('err1', '2026-03-01T10:00:00Z')], { groupKey: groupKey('http500') }));
    await parentTsOf(incident);
    await outboxDelivered();
    const failures = t.slack.rejected.filter((r) => r.error === 'http_500');
    expect(failures).toHaveLength(2);
    expect(failures.every((r) => String(r.args.text).endsWith(`(#${incident})`))).toBe(true);
    expect(parentPosts(incident)).toHaveLength(1);
  });

  it('delivers everything, in order, once Slack is reachable again', async () => {
    await outboxDelivered();
    const before = posts().length;
    t.slack.setUnreachable(true);
    let unreachable = true;
    try {
      const first = groupKey('outage-a');
      const a = firing('out1', '2026-03-01T10:00:00Z');
      const b = firing('out2', '2026-03-01T10:01:00Z');
      const c = firing('out3', '2026-03-01T10:02:00Z');
      const x = await send(notification([a], { groupKey: first }));
      await send(notification([a, b], { groupKey: first }));
      await send(notification([a, b, c], { groupKey: first }));
      const y = await send(notification([firing('out4', '2026-03-01T10:03:00Z')], { groupKey: groupKey('outage-b') }));
      // The sender keeps trying while Slack is away.
      await eventually('attempts against the unreachable Slack', () => t.slack.rejected.filter((r) => r.error === 'unreachable').length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(posts().length).toBe(before);
      t.slack.setUnreachable(false);
      unreachable = false;

      const xTs = await parentTsOf(x);
      await parentTsOf(y);
      await outboxDelivered();
      const delivered = posts().slice(before).filter((p) => p.args.channel === GATEWAY);
      expect(delivered.map((p) => (p.args.thread_ts === undefined ? `parent ${String(p.args.text).match(/\(#\d+\)$/)?.[0]}` : `reply ${String(p.args.text)}`))).toEqual([
        `parent (#${x})`,
        'reply 🔴 1 alert started firing (2 firing now).',
        'reply 🔴 1 alert started firing (3 firing now).',
        `parent (#${y})`,
      ]);
      expect(delivered.slice(1, 3).every((p) => p.args.thread_ts === xTs)).toBe(true);
      expect(JSON.stringify(t.slack.message(GATEWAY, xTs)!.blocks)).toContain('3 firing · 0 resolved');
    } finally {
      if (unreachable) t.slack.setUnreachable(false);
    }
  });
});
