import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createAutomationRunner, type AutomationRunner } from '../../src/alerts/automation-runner.js';
import { createIncidentDesk } from '../../src/alerts/incident-desk.js';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createIncidentProjector } from '../../src/alerts/project-incident.js';
import type { ActionDeps } from '../../src/commands/action.js';
import { allActions } from '../../src/commands/actions/index.js';
import { allowEveryone } from '../../src/commands/authorize.js';
import { createDispatcher } from '../../src/commands/dispatch.js';
import { createRegistry } from '../../src/commands/registry.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { createHealthChecker } from '../../src/integrations/health/index.js';
import { createRestarter } from '../../src/integrations/restart/index.js';
import type { Db } from '../../src/store/db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createRunsRepository } from '../../src/store/runs-repository.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { freePort, nodeHealthServer, startSupervisord, type Supervisord } from '../helpers/supervisord.js';
import { createTempDatabase } from '../helpers/temp-database.js';
import { appliedIncident } from '../helpers/applied-incident.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'am-automation-token-0123456789';
const CHANNEL = 'C0AUTO';

let supervisord: Supervisord;
let shared: Awaited<ReturnType<typeof createTempDatabase>>;
let t: TestSwitchboard;
let otherDb: Db;
let otherRunner: AutomationRunner;

function catalogYaml(ports: { a: number; b: number }, supervisorUrl: string) {
  const service = (name: string, port: number) => `
  ${name}:
    name: ${name}
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:${port}/health", expect: { json: { status: healthy } }, timeout: 2s }
    restart: { kind: supervisor, url: "${supervisorUrl}", programs: [${name}], verify: { timeout: 20s, interval: 300ms } }`;
  return `
version: 1
services:${service('svc-a', ports.a)}${service('svc-b', ports.b)}
defaultRoute: { channel: ${CHANNEL} }
routes:
  - name: a-down
    match: { service: svc-a }
    channel: ${CHANNEL}
    service: svc-a
    automations:
      - { alertname: ServiceDown, action: service.restart, after: 1s, maxPerHour: 1 }
  - name: b-down
    match: { service: svc-b }
    channel: ${CHANNEL}
    service: svc-b
    automations:
      - { alertname: ServiceDown, action: service.restart, after: 5s }
`;
}

beforeAll(async () => {
  const ports = { a: await freePort(), b: await freePort() };
  supervisord = await startSupervisord({ 'svc-a': nodeHealthServer(ports.a), 'svc-b': nodeHealthServer(ports.b) });
  shared = await createTempDatabase('sb_auto_sv');
  const yaml = catalogYaml(ports, supervisord.url);
  t = await startTestSwitchboard({ catalogYaml: yaml, env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, DATABASE_URL: shared.url } });

  // A second instance's automation runner on the same database, ticking faster than the first.
  const catalog = parseCatalog(yaml, 'automation.yml', {});
  const registry = createRegistry(allActions);
  const logger = pino({ level: 'silent' });
  otherDb = createPostgresDb(shared.url, { max: 4 });
  const now = () => new Date();
  const incidents = createIncidentDesk({ db: otherDb, now, onIncidentChanged: createIncidentProjector({ catalog, registry, outbox: createOutbox(), now }) });
  const deps = { catalog, restarter: createRestarter({ env: {} }), health: createHealthChecker(), incidents, now, newId: randomUUID } as Partial<ActionDeps> as ActionDeps;
  const dispatcher = createDispatcher({ registry, deps, runs: createRunsRepository(otherDb), authorize: allowEveryone, logger, newId: randomUUID, newRef: () => randomUUID().slice(0, 8) });
  otherRunner = createAutomationRunner({ db: otherDb, catalog, registry, dispatcher, incidents, logger, intervalMs: 300 });
  otherRunner.start();
});

afterAll(async () => {
  await otherRunner?.stop();
  await otherDb?.close();
  await t?.close();
  await supervisord?.stop();
  await shared?.drop();
});

async function fire(service: string, group: string): Promise<number> {
  const alert = firing(`${service}-${group}`, new Date().toISOString(), { alertname: 'ServiceDown', service, severity: 'critical' });
  const res = await fetch(`${t.switchboard.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(notification([alert], { groupKey: `{}:{service="${service}", g="${group}"}`, groupLabels: { alertname: 'ServiceDown', service } })),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
  return appliedIncident(t.switchboard.db, `{}:{service="${service}", g="${group}"}`);
}

const automationOf = async (number: number) =>
  (
    await t.switchboard.db.query<{ state: string; reason: string | null; due_at: Date }>(
      'SELECT a.state, a.reason, a.due_at FROM automations a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1',
      [number],
    )
  ).rows;
const restartsOf = async (service: string) =>
  (await t.switchboard.db.query<{ origin: string; actor_id: string; actor_name: string; status: string }>(`SELECT * FROM runs WHERE action_id = 'service.restart' AND target = $1`, [service])).rows;
const threadReply = (pattern: RegExp) =>
  t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL && Boolean(c.args.thread_ts) && pattern.test(String(c.args.text)), 30_000);

requires('supervisord')('automatic runbook steps against a real supervisord', () => {
  it('restarts the service once when the incident still fires after `after`, with two instances ticking', async () => {
    const before = await supervisord.pidOf('svc-a');
    const number = await fire('svc-a', 'first');
    await vi.waitFor(async () => expect((await automationOf(number))[0]?.state).toBe('done'), { timeout: 40_000, interval: 200 });
    expect(await supervisord.pidOf('svc-a')).not.toBe(before);
    expect(await restartsOf('svc-a')).toEqual([expect.objectContaining({ origin: 'automation', actor_id: 'automation', actor_name: 'a-down/ServiceDown', status: 'succeeded' })]);
    const reply = await threadReply(/Restart\*? `svc-a` succeeded — by automation/);
    expect(String(reply.args.text)).toContain('Automation `a-down/ServiceDown`');
  }, 60_000);

  it('does not restart again within the hour (maxPerHour: 1), and says so in the thread', async () => {
    const before = await supervisord.pidOf('svc-a');
    const number = await fire('svc-a', 'second');
    await vi.waitFor(async () => expect((await automationOf(number))[0]?.state).toBe('skipped'), { timeout: 20_000, interval: 200 });
    expect((await automationOf(number))[0]!.reason).toMatch(/^Restart already ran automatically once on `svc-a` in the last hour, last at \d\d:\d\d UTC \(maxPerHour: 1\)$/);
    expect(await supervisord.pidOf('svc-a')).toBe(before);
    expect(await restartsOf('svc-a')).toHaveLength(1);
    await threadReply(/skipped: Restart already ran automatically once on `svc-a`/);
  }, 40_000);

  it('does not restart when someone acknowledged the incident before `after`', async () => {
    const before = await supervisord.pidOf('svc-b');
    const number = await fire('svc-b', 'acked');
    await t.slash(`ack ${number}`, { userId: 'U0ONCALL1', responseId: 'ack' });
    expect((await t.responses.waitFor((r) => r.path.endsWith('/ack'), 10_000)).body.text).toContain('You acknowledged');
    const { rows } = await t.switchboard.db.query<{ acknowledged_at: Date | null }>('SELECT acknowledged_at FROM incidents WHERE number = $1', [number]);
    const [scheduled] = await automationOf(number);
    // The test only means something if the acknowledgement came first.
    expect(rows[0]!.acknowledged_at!.getTime()).toBeLessThan(new Date(scheduled!.due_at).getTime());

    await vi.waitFor(async () => expect((await automationOf(number))[0]?.state).toBe('skipped'), { timeout: 20_000, interval: 200 });
    expect((await automationOf(number))[0]!.reason).toBe('<@U0ONCALL1> acknowledged the incident, so people are on it');
    expect(await supervisord.pidOf('svc-b')).toBe(before);
    expect(await restartsOf('svc-b')).toEqual([]);
    await threadReply(/skipped: <@U0ONCALL1> acknowledged the incident/);
  }, 40_000);
});
