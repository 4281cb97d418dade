import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_ACTIONS } from '../../src/commands/render-confirmation.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({
    catalogYaml: [
      'version: 1',
      'services:',
      '  api-gateway:',
      '    name: Gateway',
      '    health: []',
      '    restart: { kind: supervisor, url: "http://127.0.0.1:9/RPC2", programs: [api] }',
    ].join('\n'),
  });
});

afterAll(async () => {
  await t?.close();
});

interface RunRow {
  ref: string;
  action_id: string;
  actor_id: string;
  origin: string;
  status: string;
  error_code: string | null;
  input: { raw?: string };
}

const runsBy = async (actor: string) =>
  (await t.switchboard.db.query<RunRow>('SELECT ref, action_id, actor_id, origin, status, error_code, input FROM runs WHERE actor_id = $1 ORDER BY started_at', [actor])).rows;

describe('/ops text refused while parsing', () => {
  it.each([
    ['an unclosed quote', 'restart "api-gateway', 'COMMAND_UNPARSABLE', 'ops'],
    ['an option smuggled as an argument', 'restart -rf', 'COMMAND_USAGE', 'service.restart'],
    ['an unknown flag', 'restart api-gateway --force', 'COMMAND_USAGE', 'service.restart'],
    ['a path', 'restart ../../etc/passwd', 'SERVICE_NOT_FOUND', 'service.restart'],
    ['a look-alike letter in the service', 'restart \u0430pi-gateway', 'SERVICE_NOT_FOUND', 'service.restart'],
    ['a look-alike letter in the verb', 'r\u0435start api-gateway', 'COMMAND_UNKNOWN', 'ops'],
  ])('%s is answered, and recorded as refused with its code, the actor and the raw text', async (_name, text, code, actionId) => {
    const actor = `U0P${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    const res = await t.slash(text, { userId: actor });
    expect(res.status).toBe(200);
    const rows = await eventually('the refusal recorded', async () => {
      const found = await runsBy(actor);
      return found.length > 0 && found;
    });
    expect(rows).toEqual([expect.objectContaining({ status: 'refused', error_code: code, action_id: actionId, origin: 'slash', actor_id: actor })]);
    expect(rows[0]!.input.raw).toBe(`/ops ${text}`);
  });

  it('keeps a bounded part of very long text', async () => {
    const actor = 'U0LONGTEXT1';
    await t.slash(`restart ${'x'.repeat(3_000)}`, { userId: actor });
    const rows = await eventually('the refusal recorded', async () => {
      const found = await runsBy(actor);
      return found.length > 0 && found;
    });
    expect(rows[0]!.input.raw!.length).toBeLessThanOrEqual(500);
  });
});

describe('malformed button values', () => {
  it.each([
    ['act:service.health', 'not json'],
    ['act:service.health', '{"v":1,"in":{"service":"../x"}}'],
    ['act:no.such-action', '{"v":1,"in":{}}'],
    ['inc:ack', '{"v":1,"in":{}}'],
    ['inc:resolve', '{"v":1,"i":"not-a-uuid","in":{}}'],
  ])('%s with %s is refused privately and recorded', async (actionId, value) => {
    const actor = `U0B${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    const responseId = `malformed-${actor}`;
    expect((await t.click({ actionId, value, userId: actor, responseId })).status).toBe(200);
    const answer = await t.responses.waitFor((r) => r.path === `/commands/${responseId}`, 5_000);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    const rows = await eventually('the refusal recorded', async () => {
      const found = await runsBy(actor);
      return found.length > 0 && found;
    });
    expect(rows).toEqual([expect.objectContaining({ status: 'refused', error_code: 'BUTTON_INVALID', origin: 'button' })]);
    expect(rows[0]!.input.raw).toContain(value.slice(0, 20));
  });
});

describe('confirmation misuse', () => {
  const confirmationOf = (body: string): string => {
    const blocks = JSON.parse(body).blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[];
    const button = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === CONFIRM_ACTIONS.run)!;
    return button.value!;
  };
  const confirm = (value: string, userId: string, responseId: string) => t.click({ actionId: CONFIRM_ACTIONS.run, value, userId, responseId });

  it('records someone else\'s confirmation, a forged id, extra concurrent clicks and a second use', async () => {
    const owner = 'U0OWNER0001';
    const other = 'U0OTHER0001';
    const value = confirmationOf((await t.slash('restart api-gateway', { userId: owner })).body);

    await confirm(value, other, 'not-yours');
    await confirm(JSON.stringify({ v: 1, c: randomUUID() }), other, 'forged');
    await confirm('{"v":1,"c":"../../x"}', other, 'malformed');
    const refusedOfOther = await eventually('the other person\'s refusals', async () => {
      const found = (await runsBy(other)).filter((r) => r.status === 'refused');
      return found.length === 3 && found;
    });
    expect(refusedOfOther.map((r) => r.error_code)).toEqual(['CONFIRMATION_INVALID', 'CONFIRMATION_INVALID', 'CONFIRMATION_INVALID']);
    expect(refusedOfOther.map((r) => r.input.raw)).toEqual([expect.stringContaining('not_yours'), expect.stringContaining('unknown'), expect.stringContaining('unknown')]);

    // Three clicks at once: one runs, the other two are refused and recorded.
    await Promise.all([confirm(value, owner, 'c1'), confirm(value, owner, 'c2'), confirm(value, owner, 'c3')]);
    await confirm(value, owner, 'again');
    const ofOwner = await eventually('the owner\'s run and refusals', async () => {
      const found = await runsBy(owner);
      return found.filter((r) => r.error_code === 'CONFIRMATION_INVALID').length === 3 && found.some((r) => r.action_id === 'service.restart' && r.status !== 'running') && found;
    });
    const misuse = ofOwner.filter((r) => r.error_code === 'CONFIRMATION_INVALID');
    expect(misuse.every((r) => r.input.raw!.includes('used'))).toBe(true);
    expect(ofOwner.filter((r) => r.action_id === 'service.restart')).toHaveLength(1);
  });
});
