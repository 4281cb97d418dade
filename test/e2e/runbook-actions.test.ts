import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { freePort, nodeHealthServer, startSupervisord, type Supervisord } from '../helpers/supervisord.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { createButtonSigner } from '../../src/commands/button-value.js';
import { serverKey } from '../../src/store/server-keys-repository.js';
import { requires } from '../helpers/requires.js';
import { testRedisClient } from '../helpers/test-redis-client.js';

let supervisord: Supervisord;
let t: TestSwitchboard;
let redis: Redis;
let appDb: Awaited<ReturnType<typeof createTempDatabase>>;
let backupDir: string;
const prefix = `sbtest:${Date.now()}`;
const breakerKey = `${prefix}:api-gateway:circuit-breaker`;

const runsOf = (action: string) =>
  t.switchboard.db.query<{ status: string; actor_id: string; origin: string; error_code: string | null; target: string }>(
    'SELECT status, actor_id, origin, error_code, target FROM runs WHERE action_id = $1 ORDER BY started_at',
    [action],
  );

beforeAll(async () => {
  const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
  supervisord = await startSupervisord({ 'brownie-api': nodeHealthServer(apiPort), 'gateway-proxy': nodeHealthServer(gatewayPort) });
  redis = testRedisClient();
  appDb = await createTempDatabase('sb_brownie');
  const setup = new pg.Client({ connectionString: appDb.url });
  await setup.connect();
  await setup.query('CREATE TABLE cookies (id int primary key, name text); INSERT INTO cookies VALUES (1, $$brownie$$), (2, $$blondie$$)');
  await setup.end();
  backupDir = await mkdtemp(join(tmpdir(), 'switchboard-backups-'));

  t = await startTestSwitchboard({
    catalogYaml: `
version: 1
services:
  brownie-metadata:
    name: Brownie Metadata API
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:${apiPort}/health", expect: { json: { status: healthy } }, timeout: 2s }
    restart:
      kind: supervisor
      url: ${supervisord.url}
      programs: [brownie-api]
      verify: { timeout: 20s, interval: 500ms }
    backups:
      - { name: database, kind: postgres, url: "${appDb.url}", folder: "${backupDir}", retention: { keep: 3 } }
    postgres: { url: "${appDb.url}", longQueryThreshold: 1s }
    cooldowns: { service.restart: 10m }
  api-gateway:
    name: Resilient API Gateway
    health:
      - { name: gateway, kind: http, url: "http://127.0.0.1:${gatewayPort}/health" }
    restart: { kind: supervisor, url: "${supervisord.url}", programs: [gateway-proxy] }
    circuitBreakers:
      - { name: upstream, redis: "${TEST_REDIS_URL}", key: "${breakerKey}", type: hash, reset: delete, probe: { url: "http://127.0.0.1:${gatewayPort}/health" } }
    permissions: { circuit.reset: admin }
roles:
  operators: { permissions: [operate], users: [U0OPERATOR] }
  leads: { permissions: [admin], usergroups: [S0LEADS] }
  watchers: { permissions: [read], users: [U0WATCHER] }
`,
  });
  t.slack.usergroups.set('S0LEADS', ['U0LEAD']);
  const signer = createButtonSigner(await serverKey(t.switchboard.db, 'button'));
  signed = (actionId, text) => signer.sign(actionId, text);
});

afterAll(async () => {
  await t?.close();
  await supervisord?.stop();
  await redis?.del(breakerKey, `${breakerKey}:sibling`);
  redis?.disconnect();
  await appDb?.drop();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

const value = (input: Record<string, string>) => JSON.stringify({ v: 1, in: input });
/** A value as Switchboard puts it on a button it posts: signed with the store's key. */
let signed: (actionId: string, text: string) => string;

requires('supervisord', 'redis')('restart from /ops, with a confirmation', () => {
  it('asks first, restarts the real process on Confirm, waits for health, and records the run', async () => {
    const before = await supervisord.pidOf('brownie-api');
    const ack = await t.slash('restart brownie-metadata', { responseId: 'restart-1' });
    const prompt = JSON.parse(ack.body);
    expect(prompt.text).toContain('*Restart* `brownie-metadata`?');
    expect(prompt.text).toContain('through supervisor');
    const confirm = prompt.blocks[1].elements[0];
    expect(confirm.action_id).toBe('confirm:run');
    expect(await supervisord.pidOf('brownie-api')).toBe(before);

    await t.click({ actionId: 'confirm:run', value: confirm.value, responseId: 'confirm-1' });
    const result = await t.responses.waitFor((r) => r.path.endsWith('/confirm-1') && /Restarted/.test(r.body.text ?? ''), 30_000);
    expect(result.body.text).toMatch(/✓ Restarted `brownie-metadata` \(.*brownie-api.*\); healthy after/);
    expect(result.body.response_type).toBe('in_channel');
    const after = await supervisord.pidOf('brownie-api');
    expect(after).not.toBe(before);

    // The same confirmation works once.
    await t.click({ actionId: 'confirm:run', value: confirm.value, responseId: 'confirm-again' });
    const again = await t.responses.waitFor((r) => r.path.endsWith('/confirm-again'));
    expect(again.body.text).toContain('already used');
    expect(await supervisord.pidOf('brownie-api')).toBe(after);

    const { rows } = await runsOf('service.restart');
    expect(rows).toEqual([{ status: 'succeeded', actor_id: 'U0OPERATOR', origin: 'slash', error_code: null, target: 'brownie-metadata' }]);
  });

  it('refuses a second restart within the catalog cooldown, saying until when', async () => {
    const ack = await t.slash('restart brownie-metadata', { responseId: 'restart-cool' });
    await t.click({ actionId: 'confirm:run', value: JSON.parse(ack.body).blocks[1].elements[0].value, responseId: 'confirm-cool' });
    const answer = await t.responses.waitFor((r) => r.path.endsWith('/confirm-cool') && /last succeeded/.test(r.body.text ?? ''), 10_000);
    expect(answer.body.text).toMatch(/Restart of `brownie-metadata` last succeeded <!date\^\d+\^.*\(ref `[0-9a-f]{8}`\); it can run again <!date/);
    expect((await runsOf('service.restart')).rows.map((r) => r.error_code)).toEqual([null, 'RUN_COOLING_DOWN']);
  });

  it('does not let someone else confirm, and cancel means nothing runs', async () => {
    const ack = await t.slash('restart api-gateway', { responseId: 'restart-2' });
    const confirmValue = JSON.parse(ack.body).blocks[1].elements[0].value;
    await t.click({ actionId: 'confirm:run', value: confirmValue, userId: 'U0LEAD', responseId: 'steal' });
    expect((await t.responses.waitFor((r) => r.path.endsWith('/steal'))).body.text).toContain('someone else asked for it');
    await t.click({ actionId: 'confirm:cancel', value: confirmValue, responseId: 'cancel' });
    expect((await t.responses.waitFor((r) => r.path.endsWith('/cancel'))).body.text).toContain('Cancelled');
    await t.click({ actionId: 'confirm:run', value: confirmValue, responseId: 'after-cancel' });
    expect((await t.responses.waitFor((r) => r.path.endsWith('/after-cancel'))).body.text).toContain('already used or cancelled');
    expect((await runsOf('service.restart')).rows.filter((r) => r.target === 'api-gateway')).toEqual([]);
  });
});

requires('supervisord', 'redis')('runbook buttons', () => {
  it('runs ten concurrent identical clicks once', async () => {
    const before = await supervisord.pidOf('gateway-proxy');
    const clicks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.click({ actionId: 'act:service.restart', value: signed('act:service.restart', value({ service: 'api-gateway' })), responseId: `click-${i}` })),
    );
    expect(clicks.map((c) => c.status)).toEqual(Array(10).fill(200));
    await t.slack.waitFor((c) => c.method === 'chat.update' && /Restarted `api-gateway`/.test(String(c.args.text)), 30_000).catch(async () =>
      t.slack.waitFor((c) => c.method === 'chat.postMessage' && /Restarted `api-gateway`/.test(String(c.args.text)), 5_000),
    );
    const rows = (await runsOf('service.restart')).rows.filter((r) => r.target === 'api-gateway');
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'refused').map((r) => r.error_code)).toEqual(Array(9).fill('RUN_IN_PROGRESS'));
    // The nine refusals go to the people who clicked; the one run answers in the thread.
    await vi.waitFor(() => {
      const refusals = t.responses.received.filter((r) => /\/click-\d$/.test(r.path));
      expect(refusals.filter((r) => /already running, started by <@U0OPERATOR>/.test(r.body.text))).toHaveLength(9);
    });
    expect(await supervisord.pidOf('gateway-proxy')).not.toBe(before);
  });

  it('refuses a user without the permission, and tells them which role they need', async () => {
    await t.click({ actionId: 'act:service.restart', value: signed('act:service.restart', value({ service: 'brownie-metadata' })), userId: 'U0WATCHER', responseId: 'watcher' });
    const answer = await t.responses.waitFor((r) => r.path.endsWith('/watcher'));
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(answer.body.text).toContain('You need the `operate` permission to restart `brownie-metadata` (a role such as `operators`, `leads`)');
    const ack = await t.slash('restart brownie-metadata', { userId: 'U0STRANGER', responseId: 'stranger' });
    expect(JSON.parse(ack.body).text).toContain('You need the `operate` permission');
    const refused = (await runsOf('service.restart')).rows.filter((r) => r.status === 'refused' && r.error_code === 'PERMISSION_DENIED');
    expect(refused.map((r) => r.actor_id).sort()).toEqual(['U0STRANGER', 'U0WATCHER']);
  });

  it('resets a real circuit breaker hash, only for a member of the user group that may, and probes', async () => {
    await redis.hset(breakerKey, { state: 'open', failures: '12', opened_at: String(Math.floor(Date.now() / 1000) - 420) });
    await redis.set(`${breakerKey}:sibling`, 'untouched');
    // The catalog raises circuit.reset on the gateway to admin: an operator may not.
    await t.click({ actionId: 'act:circuit.reset', value: signed('act:circuit.reset', value({ service: 'api-gateway' })), responseId: 'op-reset' });
    expect((await t.responses.waitFor((r) => r.path.endsWith('/op-reset'))).body.text).toContain('`admin` permission');
    expect(await redis.exists(breakerKey)).toBe(1);

    await t.click({ actionId: 'act:circuit.reset', value: signed('act:circuit.reset', value({ service: 'api-gateway' })), userId: 'U0LEAD', responseId: 'lead-reset' });
    const done = await t.slack.waitFor((c) => /Reset circuit breaker `upstream`/.test(String(c.args.text)), 15_000);
    expect(String(done.args.text)).toMatch(/Before: \*open\*.*12 failures/s);
    expect(String(done.args.text)).toContain('Probe ✓');
    expect(await redis.exists(breakerKey)).toBe(0);
    expect(await redis.get(`${breakerKey}:sibling`)).toBe('untouched');
  });
});

requires('supervisord', 'redis', 'pg_dump', 'pg_restore')('backups and database diagnostics', () => {
  it('backs up a real database with pg_dump, records it and exposes backup_success', async () => {
    const ack = await t.slash('backup brownie-metadata', { responseId: 'backup' });
    expect(JSON.parse(ack.body).text).toContain('Running');
    const done = await t.responses.waitFor((r) => r.path.endsWith('/backup') && /Backup/.test(r.body.text ?? ''), 60_000);
    expect(done.body.text).toMatch(/✓ Backup `database` of `brownie-metadata` done in .* \(verified\)/);
    const files = await readdir(backupDir);
    expect(files.filter((f) => f.endsWith('.dump'))).toHaveLength(1);
    const metrics = await (await fetch(`${t.switchboard.url}/metrics`)).text();
    expect(metrics).toMatch(/backup_success\{service="brownie-metadata",target="database"\} 1/);
    const list = await t.slash('backups brownie-metadata', { responseId: 'list' });
    expect(JSON.parse(list.body).text).toContain('Running');
    expect((await t.responses.waitFor((r) => r.path.endsWith('/list') && /Recent backups/.test(r.body.text ?? ''))).body.text).toContain('✓ `database`');
  });

  it('terminates a deliberately long query after a confirmation', async () => {
    const sleeper = new pg.Client({ connectionString: appDb.url, application_name: 'sleeper' });
    await sleeper.connect();
    sleeper.on('error', () => undefined);
    const sleeping = sleeper.query('SELECT pg_sleep(60)').catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 1_500));
    const ack = await t.slash('db kill-long-queries brownie-metadata', { responseId: 'kill' });
    const prompt = JSON.parse(ack.body);
    expect(prompt.text).toContain('pg_terminate_backend');
    await t.click({ actionId: 'confirm:run', value: prompt.blocks[1].elements[0].value, responseId: 'kill-confirm' });
    const outcome = await sleeping;
    expect(outcome).toBeInstanceOf(Error);
    const reply = await t.responses.waitFor((r) => r.path.endsWith('/kill-confirm') && /brownie-metadata/.test(r.body.text ?? ''), 15_000);
    expect(reply.body.text).toMatch(/erminated 1/);
    await sleeper.end().catch(() => undefined);
  });
});

requires('supervisord', 'redis')('nothing from chat reaches a shell, a flag, a key or a path', () => {
  const evil = ['; rm -rf /', '$(id)', '`id`', 'a\nb', '--server=x', '../../etc/passwd', '-rf'];

  it('refuses injection in /ops arguments and flags without running anything', async () => {
    const pid = await supervisord.pidOf('brownie-api');
    for (const text of evil) {
      for (const command of [`restart "${text}"`, `backup brownie-metadata "${text}"`, `db long-queries brownie-metadata --older-than "${text}"`]) {
        const ack = await t.slash(command, { responseId: 'evil' });
        expect(ack.status).toBe(200);
        expect(JSON.parse(ack.body).text).not.toContain('Running');
      }
    }
    expect(await supervisord.pidOf('brownie-api')).toBe(pid);
  });

  it('refuses tampered button values and unknown actions', async () => {
    const pid = await supervisord.pidOf('brownie-api');
    const values = [...evil.map((e) => value({ service: e })), '{"v":1,"in":{"service":"brownie-metadata","extra":"$(id)"}}', '{"v":2,"in":{}}', 'not json', 'x'.repeat(2_100)];
    for (const [i, v] of values.entries()) {
      await t.click({ actionId: 'act:service.restart', value: v, responseId: `tamper-${i}` });
    }
    await t.click({ actionId: 'act:system.shell', value: value({ service: 'brownie-metadata' }), responseId: 'tamper-unknown' });
    for (const i of values.keys()) {
      const answer = await t.responses.waitFor((r) => r.path.endsWith(`/tamper-${i}`), 5_000);
      expect(answer.body.text).toMatch(/not valid|not one Switchboard made|no service/);
    }
    expect((await t.responses.waitFor((r) => r.path.endsWith('/tamper-unknown'))).body.text).toContain('not one Switchboard made');
    expect(await supervisord.pidOf('brownie-api')).toBe(pid);
    const { rows } = await t.switchboard.db.query<{ target: string }>("SELECT target FROM runs WHERE target NOT IN ('brownie-metadata', 'api-gateway')");
    expect(rows).toEqual([]);
  });
});
