import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RecordedCall } from '../fakes/fake-slack.js';
import { firing, notification, resolved, type WireNotification } from '../fixtures/alertmanager/notifications.js';
import { appliedIncident } from '../helpers/applied-incident.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const TOKEN = 'am-storm-token-0123456789';
const CHANNEL = 'C0STORM';
const STARTS = '2026-03-01T10:00:00Z';
// A short quiet period so the test sees the storm end; the default is 5m.
const QUIET_MS = 4_000;

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({
    catalogYaml: `
version: 1
services:
  api-gateway: { name: Resilient API Gateway }
defaultRoute: { channel: ${CHANNEL} }
storm: { threshold: 5, window: 1m, quietAfter: ${QUIET_MS / 1000}s }
`,
    env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN },
  });
});
afterAll(async () => {
  await t?.close();
});

const group = (n: number) => `{}:{alertname="HighErrorRate", instance="node-${n}"}`;
const wire = (n: number) => notification([firing(`fp${n}`, STARTS, { instance: `node-${n}` })], { groupKey: group(n) });

async function post(body: WireNotification): Promise<number> {
  const res = await fetch(`${t.switchboard.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
  return appliedIncident(t.switchboard.db, body.groupKey);
}

const topLevelPosts = () => t.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === CHANNEL && !c.args.thread_ts);
const isDigest = (c: RecordedCall) => String(c.args.text).startsWith('⚡');
const buttonsOf = (c: RecordedCall) =>
  (c.args.blocks as Array<{ accessory?: { action_id: string; value: string } }>).flatMap((b) => (b.accessory?.action_id === 'inc:open-thread' ? [b.accessory.value] : []));

describe('an alert storm in one channel', () => {
  it('posts a handful of threads and one digest, opens threads on request, and goes back to threads when quiet', async () => {
    const numbers: number[] = [];
    for (let n = 1; n <= 60; n++) numbers.push(await post(wire(n)));
    const { rows } = await t.switchboard.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents WHERE channel = $1', [CHANNEL]);
    expect(rows[0]!.n).toBe(60);

    // The digest jumps ahead of the five thread posts queued in the channel (one post per second), then is edited to list all 55.
    const digestPost = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && isDigest(c), 30_000);
    const digestTs = String(digestPost.response.ts);
    const listing = await t.slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === digestTs && /^⚡ 55 new incidents/.test(String(c.args.text)), 30_000);
    await vi.waitFor(() => expect(topLevelPosts().filter((c) => !isDigest(c)).map((c) => String(c.args.text))).toEqual(numbers.slice(0, 5).map((n) => expect.stringContaining(`(#${n})`))), { timeout: 15_000 });
    const firstThread = t.slack.calls.findIndex((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && !isDigest(c));
    expect(t.slack.calls.indexOf(digestPost)).toBeLessThan(firstThread + 2);
    expect(topLevelPosts().filter(isDigest)).toHaveLength(1);
    const values = buttonsOf(listing);
    expect(values).toHaveLength(20); // the most severe get a button; the rest are listed as lines
    const listed = JSON.stringify(listing.args.blocks);
    for (const n of numbers.slice(5)) expect(listed).toContain(`*#${n}*`);
    expect(listed).not.toContain('…and');

    // Every incident stays open and listed, digest or not.
    await t.slash('incidents', { responseId: 'list' });
    const list = await t.responses.waitFor((r) => r.path.endsWith('/list'), 10_000);
    expect(list.body.text).toContain(`#${numbers[59]}`);

    // Open thread: the incident's own parent message, and its changes flow into that thread.
    const value = values[0]!;
    const incidentId = (JSON.parse(value) as { i: string }).i;
    const { rows: picked } = await t.switchboard.db.query<{ number: number; group_key: string }>('SELECT number, group_key FROM incidents WHERE id = $1', [incidentId]);
    const { number, group_key: groupKey } = picked[0]!;
    await t.click({ actionId: 'inc:open-thread', value, channelId: CHANNEL, messageTs: digestTs });
    const parent = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`(#${number})`), 15_000);
    const n = Number(/node-(\d+)/.exec(groupKey)![1]);
    await post(notification([resolved(firing(`fp${n}`, STARTS, { instance: `node-${n}` }), new Date().toISOString())], { groupKey }));
    await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === parent.response.ts && /Resolved/.test(String(c.args.text)), 15_000);

    // A second click says where the thread is instead of posting it again.
    await t.click({ actionId: 'inc:open-thread', value, channelId: CHANNEL, messageTs: digestTs, responseId: 'again' });
    const again = await t.responses.waitFor((r) => r.path.endsWith('/again'), 10_000);
    expect(again.body.text).toMatch(/already open: <https:\/\/.+\|go to the thread>/);
    expect(topLevelPosts().filter((c) => String(c.args.text).includes(`(#${number})`))).toHaveLength(1);

    // Once no incident has arrived for quietAfter, a new one gets its own thread (though the minute's count is high).
    const { rows: last } = await t.switchboard.db.query<{ at: Date }>('SELECT max(opened_at) AS at FROM incidents WHERE channel = $1', [CHANNEL]);
    const wait = new Date(last[0]!.at).getTime() + QUIET_MS + 200 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const calm = await post(wire(61));
    await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`(#${calm})`), 15_000);
    const { rows: digested } = await t.switchboard.db.query<{ n: number }>('SELECT count(*)::int AS n FROM storm_incidents s JOIN incidents i ON i.id = s.incident_id WHERE i.number = $1', [calm]);
    expect(digested[0]!.n).toBe(0);
  }, 90_000);
});
