/**
 * Hostile alert text and huge values through the real entry points (POST /alertmanager, signed
 * `/ops` commands) to the fake Slack, which refuses what Slack refuses: every message fits
 * Slack's limits, every reply escapes what it did not write, and a resolution is said once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../fakes/fake-slack.js';
import { firing, notification, resolved } from '../fixtures/alertmanager/notifications.js';
import { appliedIncident } from '../helpers/applied-incident.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const TOKEN = 'e2e-limits-webhook-token-0123456789';
const CHANNEL = 'C0ALERTS';
const GROUP_KEY = '{}/{service="hostile"}:{alertname="HighErrorRate"}';
/** A label value that tries every way out: mentions, a link, a code span break-out, entities. */
const HOSTILE = '<!channel> `<@U0VICTIM>` <http://evil.example|click> *b* &amp; @here';
const longUrl = (host: string) => `https://${host}.example.com/graph?q=${'a'.repeat(2_890)}`;

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
defaultRoute: { channel: ${CHANNEL} }
`,
  });
});

afterAll(async () => {
  await t?.close();
});

async function post(body: { groupKey: string }): Promise<number> {
  const res = await fetch(`${t.switchboard.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.text()).toBe(200);
  return appliedIncident(t.switchboard.db, body.groupKey);
}

const alert = firing('fp-hostile-1', '2025-03-04T10:00:00Z', { service: HOSTILE, instance: 'gw-1:5000', team: HOSTILE });
alert.generatorURL = longUrl('prometheus');
alert.annotations = { summary: HOSTILE, runbook_url: longUrl('runbooks') };

/** `<…>` that Slack would act on and that Switchboard did not write itself. */
function strayMarkup(text: string): string[] {
  return (text.match(/<[^>]*>/g) ?? []).filter((m) => !/^<(?:!date\^[^|]+\|[^>]+|@U0OPERATOR|https:\/\/[a-z.]+\.example\.com\/[^|]*\|(?:Source|Runbook|Alertmanager))>$/.test(m));
}

const replies = (parentTs: string): RecordedCall[] => t.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === parentTs);

describe('hostile incidents through the app', () => {
  let number: number;
  let parentTs: string;

  it('posts the parent with three 2,900-character links: one context element within 3,000 characters', async () => {
    number = await post(notification([alert], { groupKey: GROUP_KEY, externalURL: longUrl('alertmanager') }));
    const parent = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === undefined && String(c.args.text).endsWith(`(#${number})`), 10_000);
    expect(t.slack.rejected).toEqual([]);
    parentTs = String(parent.response.ts);
    const links = (parent.args.blocks as Array<{ block_id?: string; elements?: Array<{ text: string }> }>).find((b) => b.block_id === 'incident-links');
    const text = links!.elements![0]!.text;
    expect(text.length).toBeLessThanOrEqual(3_000);
    // Each link past its share of the element points to its origin rather than being cut or lost.
    expect(text).toBe('<https://prometheus.example.com/|Source> · <https://runbooks.example.com/|Runbook> · <https://alertmanager.example.com/|Alertmanager>');
    expect(strayMarkup(JSON.stringify(parent.args.blocks))).toEqual([]);
  });

  it('escapes the labels in /ops incidents, ack and resolve: no mention, link or code-span break-out', async () => {
    for (const [command, id] of [['incidents', 'list'], [`ack ${number}`, 'ack'], [`resolve ${number}`, 'resolve']] as const) {
      const answer = await t.slash(command, { responseId: `limits-${id}` });
      expect(answer.status).toBe(200);
      const reply = await eventually(`the reply to /ops ${command}`, () =>
        t.responses.received.find((r) => r.path === `/commands/limits-${id}` && !String(r.body.text).startsWith('⏳'))?.body as { text: string } | undefined,
      );
      expect(reply.text).toContain(`#${number}`);
      expect(strayMarkup(reply.text), reply.text).toEqual([]);
      expect(reply.text).toContain('&lt;!channel&gt;');
      expect(reply.text).not.toMatch(/@here/);
      // The label's own backticks cannot close the code span the reply puts it in.
      const span = /\(`([^`]*)`\)/.exec(reply.text);
      expect(span?.[1], reply.text).toContain('&lt;@\u200DU0VICTIM&gt;');
    }
  });

  it('says a resolution once, listing the alert by its labels', async () => {
    const again = firing('fp-hostile-2', '2025-03-04T10:05:00Z', { service: HOSTILE, instance: 'gw-2:5000' });
    const groupKey = '{}/{service="hostile"}:{alertname="HighErrorRate", run="resolution"}';
    const second = await post(notification([again], { groupKey }));
    const secondParent = await t.slack.waitFor((c) => c.args.thread_ts === undefined && String(c.args.text).endsWith(`(#${second})`), 10_000);
    const ts = String(secondParent.response.ts);
    const before = replies(ts).length;
    await post(notification([resolved(again, '2025-03-04T10:09:00Z')], { groupKey }));
    const reply = await t.slack.waitFor((c) => c.args.thread_ts === ts && String(c.args.text).includes('Resolved'), 10_000);
    expect(reply.args.text).toBe('✅ Resolved: every alert stopped firing.');
    expect(JSON.stringify(reply.args.blocks)).toContain('instance=gw-2:5000');
    expect(JSON.stringify(reply.args.blocks)).not.toContain('fp-hostile-2');
    await eventually('the outbox drained', async () => {
      const { rows } = await t.switchboard.db.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE state = 'pending'");
      return Number(rows[0]!.n) === 0;
    });
    expect(replies(ts).slice(before).map((c) => c.args.text)).toEqual(['✅ Resolved: every alert stopped firing.']);
    expect(t.slack.rejected).toEqual([]);
    expect(parentTs).toBeDefined();
  });
});
