import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds, postToSlack, slashCommandBody, signSlackRequest } from '../helpers/slack-requests.js';
import { SIGNING_SECRET, startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({
    store: 'pglite',
    catalogYaml: 'version: 1\nservices:\n  api-gateway:\n    name: Gateway\n    health: []\n',
  });
});

afterAll(async () => {
  await t?.close();
});

const body = (id: string) => slashCommandBody({ text: 'health api-gateway', response_url: t.responses.url(id) });

async function expectNothingRan() {
  await new Promise((r) => setTimeout(r, 300));
  expect(t.responses.received).toEqual([]);
  const { rows } = await t.switchboard.db.query('SELECT ref FROM runs');
  expect(rows).toEqual([]);
}

describe('requests that do not come from Slack', () => {
  it('accepts a correctly signed request (control)', async () => {
    const res = await postToSlack(t.switchboard.url, '/slack/events', slashCommandBody({ text: 'help', response_url: t.responses.url('ok') }), SIGNING_SECRET);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).text).toContain('/ops health');
  });

  it.each([
    ['unsigned', null, {}],
    ['signed with another secret', 'not-the-secret', {}],
    ['with a tampered signature', SIGNING_SECRET, { signature: 'v0=' + '0'.repeat(64) }],
    ['stamped 6 minutes ago', SIGNING_SECRET, { timestampSeconds: nowSeconds() - 6 * 60 }],
    ['stamped 6 minutes in the future', SIGNING_SECRET, { timestampSeconds: nowSeconds() + 6 * 60 }],
  ] as const)('rejects a request %s', async (_name, secret, opts) => {
    const res = await postToSlack(t.switchboard.url, '/slack/events', body('x'), secret, opts);
    expect(res.status).toBe(401);
    await expectNothingRan();
  });

  it('rejects a body changed after signing', async () => {
    const signed = signSlackRequest(body('y'), SIGNING_SECRET);
    const res = await fetch(`${t.switchboard.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed },
      body: body('y').replace('health', 'restart'),
    });
    expect(res.status).toBe(401);
    await expectNothingRan();
  });

  it('answers ssl_check=1 without letting a smuggled payload reach a handler', async () => {
    const payload = JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'act:service.health', value: '{"v":1}' }], response_url: t.responses.url('smuggled') });
    const smuggled = `ssl_check=1&token=x&${new URLSearchParams({ payload, command: '/ops', text: 'health api-gateway', response_url: t.responses.url('smuggled2') }).toString()}`;
    const res = await postToSlack(t.switchboard.url, '/slack/events', smuggled, null);
    expect(res.status).toBe(200);
    await expectNothingRan();
  });
});
