/**
 * What reaches people when Slack refuses or delays an incident's writes, through a running
 * Switchboard: Alertmanager webhook in, fake Slack out, PostgreSQL store.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../fakes/fake-slack.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const TOKEN = 'outbox-e2e-token';

const CATALOG = `
version: 1
services:
  api-gateway: { name: Resilient API Gateway }
  billing: { name: Billing }
defaultRoute: { channel: C0ALERTS }
routes:
  - name: billing
    match: { service: billing }
    channel: C0PRIVATE
schedules:
  primary: { timezone: UTC, rotation: weekly, handoffDay: monday, handoff: "09:00", start: "2020-01-06", participants: [U01PAGED] }
escalationPolicies:
  page-now:
    levels:
      - { delay: 0m, targets: [{ schedule: primary }] }
      - { delay: 60m, targets: [{ user: U01CTO }] }
severityPolicies: { critical: page-now }
`;

let t: TestSwitchboard;
let run = 0;
beforeAll(async () => {
  t = await startTestSwitchboard({ catalogYaml: CATALOG, env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN } });
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  run += 1;
});

/** Fires a new critical incident of `service`; resolves with the fingerprint's group key. */
async function fire(service: string): Promise<string> {
  const groupKey = `{}:{alertname="HighErrorRate", run="${run}-${Math.random().toString(36).slice(2)}"}`;
  const body = JSON.stringify(
    notification([firing(`fp${run}${Math.random().toString(36).slice(2, 8)}`, new Date().toISOString(), { severity: 'critical', service })], {
      groupKey,
      groupLabels: { alertname: 'HighErrorRate', service },
    }),
  );
  const res = await fetch(`${t.switchboard.url}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  expect(res.status).toBe(200);
  return groupKey;
}

const posts = () => t.slack.callsTo('chat.postMessage');
const isParent = (c: RecordedCall, channel: string) => c.args.channel === channel && !c.args.thread_ts && String(c.args.text).includes('HighErrorRate');
const pageDms = (dmChannel: string) => posts().filter((c) => c.args.channel === dmChannel && String(c.args.text).startsWith('📟'));
const okTs = (c: RecordedCall) => (c.response.ok ? String(c.response.ts) : undefined);

async function dmChannelOf(userId: string): Promise<string> {
  const open = await t.slack.waitFor((c) => c.method === 'conversations.open' && c.args.users === userId && c.response.ok === true, 15_000);
  return (open.response.channel as { id: string }).id;
}

describe('an incident whose writes Slack delays or refuses', () => {
  it('pages by DM only after the parent message the page points to is in the channel', async () => {
    // The channel is busy for 2 s: its parent waits, and the DM must wait with it.
    t.slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 2 }, 1, (args) => args.channel === 'C0ALERTS' && !args.thread_ts);
    const before = posts().length;
    await fire('api-gateway');
    const dmChannel = await dmChannelOf('U01PAGED');
    const dm = await eventually('the DM page', () => pageDms(dmChannel).find((c) => posts().indexOf(c) >= before), 15_000);
    const parent = posts().find((c) => posts().indexOf(c) >= before && isParent(c, 'C0ALERTS') && c.response.ok === true);
    expect(parent, 'the parent was posted before the DM').toBeDefined();
    expect(parent!.at).toBeLessThanOrEqual(dm.at);
    expect(t.slack.rejected.some((r) => r.status === 429)).toBe(true);
  });

  it('posts a parent Slack refuses again as plain text, and its thread and page follow it', async () => {
    t.slack.failNext('chat.postMessage', { error: 'invalid_blocks' }, 1, (args) => !args.thread_ts && Array.isArray(args.blocks) && String(args.text).includes('HighErrorRate'));
    const before = posts().length;
    await fire('api-gateway');
    const minimal = await eventually('the minimal parent', () => posts().find((c) => posts().indexOf(c) >= before && isParent(c, 'C0ALERTS') && c.response.ok === true), 15_000);
    expect(minimal.args.blocks).toBeUndefined();
    expect(String(minimal.args.text)).toMatch(/incident #\d+ · HighErrorRate · severity critical · service api-gateway/);
    const refused = t.slack.rejected.filter((r) => r.error === 'invalid_blocks');
    expect(refused.length).toBeGreaterThanOrEqual(1);

    // The thread exists: the escalation reply is in it, and the DM page comes after it.
    const reply = await eventually('the escalation reply in the thread', () => posts().find((c) => c.args.thread_ts === okTs(minimal) && String(c.args.text).startsWith('📣 Escalated')), 15_000);
    expect(reply.response.ok).toBe(true);
    const dm = await eventually('the DM page', () => posts().find((c) => posts().indexOf(c) >= before && String(c.args.text).startsWith('📟')), 15_000);
    expect(dm.at).toBeGreaterThanOrEqual(minimal.at);
    await eventually('nothing left pending', async () => (await pendingRows()) === 0, 15_000);
  });

  it('posts into the default channel where the bot cannot post, and says so there once with the fix', async () => {
    t.slack.refuseChannel('C0PRIVATE', 'not_in_channel');
    try {
      const before = posts().length;
      await fire('billing');
      await fire('billing');
      const moved = await eventually(
        'both parents in the default channel',
        () => {
          const found = posts().filter((c) => posts().indexOf(c) >= before && isParent(c, 'C0ALERTS') && c.response.ok === true);
          return found.length === 2 && found;
        },
        20_000,
      );
      for (const parent of moved) expect(JSON.stringify(parent.args.blocks)).toContain('cannot post in <#C0PRIVATE>');
      const reports = posts().filter((c) => c.args.channel === 'C0ALERTS' && String(c.args.text).includes('cannot post in <#C0PRIVATE>') && !c.args.blocks);
      expect(reports).toHaveLength(1);
      expect(String(reports[0]!.args.text)).toContain('invite @switchboard to <#C0PRIVATE>');
      // Their threads followed them.
      for (const parent of moved) {
        await eventually('the escalation reply in the moved thread', () => posts().find((c) => c.args.thread_ts === okTs(parent) && c.args.channel === 'C0ALERTS'), 15_000);
      }
      await eventually('nothing left pending', async () => (await pendingRows()) === 0, 15_000);
    } finally {
      t.slack.refuseChannel('C0PRIVATE', undefined);
    }
  });
});

async function pendingRows(): Promise<number> {
  const metrics = await (await fetch(`${t.switchboard.url}/metrics`)).text();
  const line = /^switchboard_outbox_pending (\d+)/m.exec(metrics);
  if (!line) throw new Error('no switchboard_outbox_pending in /metrics');
  return Number(line[1]);
}
