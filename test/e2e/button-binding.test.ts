import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const CHANNEL = 'C0OPS';
const TOKEN = 'button-binding-webhook-token';
let t: TestSwitchboard;

interface Placed {
  id: string;
  ts: string;
  /** The values of the buttons on the incident's parent message, by action_id. */
  buttons: Record<string, string>;
}
const incidents: Record<'gateway' | 'brownie', Placed> = {} as never;

function notification(service: string) {
  const labels = { alertname: 'ServiceDown', service, severity: 'critical' };
  return {
    version: '4',
    groupKey: `{}:{alertname="ServiceDown", service="${service}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'switchboard',
    groupLabels: { alertname: 'ServiceDown', service },
    commonLabels: labels,
    commonAnnotations: { summary: `${service} is down` },
    externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: `fp${service}` }],
  };
}

async function open(service: string): Promise<Placed> {
  const res = await fetch(`${t.switchboard.url}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(notification(service)) });
  expect(res.status).toBe(200);
  const placed = await eventually(`the parent message of ${service}`, async () => {
    const { rows } = await t.switchboard.db.query<{ id: string; ts: string }>(
      `SELECT i.id, m.ts FROM incidents i JOIN slack_messages m ON m.message_key = 'incident:' || i.id WHERE i.group_key LIKE $1`,
      [`%service="${service}"%`],
    );
    return rows[0];
  });
  const message = t.slack.message(CHANNEL, placed.ts)!;
  const buttons: Record<string, string> = {};
  for (const block of message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]) {
    for (const element of block.elements ?? []) if (element.value) buttons[element.action_id] = element.value;
  }
  return { ...placed, buttons };
}

beforeAll(async () => {
  t = await startTestSwitchboard({
    env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN },
    catalogYaml: [
      'version: 1',
      'services:',
      '  api-gateway: { name: Gateway, health: [] }',
      '  brownie: { name: Brownie, health: [] }',
      `defaultRoute: { channel: ${CHANNEL}, buttons: { "*": [service.health] } }`,
    ].join('\n'),
  });
  incidents.gateway = await open('api-gateway');
  incidents.brownie = await open('brownie');
});

afterAll(async () => {
  await t?.close();
});

const runsOf = async (actor: string) =>
  (await t.switchboard.db.query<{ action_id: string; status: string; error_code: string | null }>('SELECT action_id, status, error_code FROM runs WHERE actor_id = $1 ORDER BY started_at', [actor])).rows;
const threadReplies = (incident: Placed) => t.slack.messages(CHANNEL).filter((m) => m.thread_ts === incident.ts && m.ts !== incident.ts);

async function click(actor: string, actionId: string, value: string, on: Placed) {
  const res = await t.click({ actionId, value, userId: actor, channelId: CHANNEL, messageTs: on.ts, responseId: actor });
  expect(res.status).toBe(200);
}
async function expectRefused(actor: string, code: string) {
  const answer = await t.responses.waitFor((r) => r.path === `/commands/${actor}`, 5_000);
  expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
  const rows = await eventually('the refusal recorded', async () => {
    const found = await runsOf(actor);
    return found.length > 0 && found;
  });
  expect(rows).toEqual([expect.objectContaining({ status: 'refused', error_code: code })]);
}

describe('buttons are bound to the message they sit on', () => {
  it('are posted signed, and a signed button on its own message runs', async () => {
    const value = JSON.parse(incidents.gateway.buttons['act:service.health']!);
    expect(value).toMatchObject({ v: 1, i: incidents.gateway.id, in: { service: 'api-gateway' }, s: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    await click('U0GOOD00001', 'act:service.health', incidents.gateway.buttons['act:service.health']!, incidents.gateway);
    const rows = await eventually('the run', async () => {
      const found = await runsOf('U0GOOD00001');
      return found.some((r) => r.status !== 'running') && found;
    });
    expect(rows).toEqual([expect.objectContaining({ action_id: 'service.health', status: 'failed' })]);
  });

  it('refuses a tampered incident id and writes nothing into the other incident\'s thread', async () => {
    const before = threadReplies(incidents.brownie).length;
    const tampered = incidents.gateway.buttons['act:service.health']!.replace(incidents.gateway.id, incidents.brownie.id);
    await click('U0TAMPER001', 'act:service.health', tampered, incidents.brownie);
    await expectRefused('U0TAMPER001', 'BUTTON_INVALID');
    expect(threadReplies(incidents.brownie)).toHaveLength(before);
  });

  it('refuses a tampered service, privately, with no public "failed" reply', async () => {
    const before = t.slack.messages(CHANNEL).length;
    const tampered = incidents.gateway.buttons['act:service.health']!.replace('"api-gateway"', '"brownie"');
    await click('U0TAMPER002', 'act:service.health', tampered, incidents.gateway);
    await expectRefused('U0TAMPER002', 'BUTTON_INVALID');
    expect(t.slack.messages(CHANNEL)).toHaveLength(before);
  });

  it('refuses a tampered action', async () => {
    await click('U0TAMPER003', 'act:service.restart', incidents.gateway.buttons['act:service.health']!, incidents.gateway);
    await expectRefused('U0TAMPER003', 'BUTTON_INVALID');
  });

  it('refuses a genuine button clicked on another incident\'s message', async () => {
    await click('U0ELSEWHERE', 'act:service.health', incidents.gateway.buttons['act:service.health']!, incidents.brownie);
    await expectRefused('U0ELSEWHERE', 'BUTTON_MISPLACED');
    await click('U0ELSEWHER2', 'inc:ack', incidents.gateway.buttons['inc:ack']!, incidents.brownie);
    await expectRefused('U0ELSEWHER2', 'BUTTON_MISPLACED');
    const { rows } = await t.switchboard.db.query(`SELECT id FROM incidents WHERE acknowledged_by IS NOT NULL`);
    expect(rows).toEqual([]);
  });

  it('accepts a button from before values were signed only on its own incident\'s message', async () => {
    const old = JSON.stringify({ v: 1, i: incidents.gateway.id, in: { service: 'api-gateway' } });
    await click('U0OLDBUTTON', 'act:service.health', old, incidents.brownie);
    await expectRefused('U0OLDBUTTON', 'BUTTON_MISPLACED');
    await click('U0OLDBUTTN2', 'act:service.health', old, incidents.gateway);
    const rows = await eventually('the run', async () => {
      const found = await runsOf('U0OLDBUTTN2');
      return found.some((r) => r.status !== 'running') && found;
    });
    expect(rows).toEqual([expect.objectContaining({ action_id: 'service.health', status: 'failed' })]);
    // Without an incident to bind it to, an unsigned value is refused.
    await click('U0OLDBUTTN3', 'act:service.health', JSON.stringify({ v: 1, in: { service: 'api-gateway' } }), incidents.gateway);
    await expectRefused('U0OLDBUTTN3', 'BUTTON_INVALID');
  });

  it('keeps the key in the store, generated once', async () => {
    const { rows } = await t.switchboard.db.query<{ name: string }>('SELECT name FROM server_keys');
    expect(rows).toEqual([{ name: 'button' }]);
  });
});
