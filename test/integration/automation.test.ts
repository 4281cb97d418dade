import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { automationProblems, createAutomationRunner, type AutomationRunner } from '../../src/alerts/automation-runner.js';
import { allActions } from '../../src/commands/actions/index.js';
import { createAutomationScheduler } from '../../src/alerts/automation-schedule.js';
import { createIncidentDesk, type IncidentChanged, type IncidentDesk } from '../../src/alerts/incident-desk.js';
import { createIntake, type Intake } from '../../src/alerts/intake.js';
import { createOutbox } from '../../src/alerts/outbox.js';
import { createIncidentProjector } from '../../src/alerts/project-incident.js';
import { defineAction, type ActionDeps } from '../../src/commands/action.js';
import { createCatalogAuthorizer } from '../../src/commands/authorize.js';
import { createDispatcher } from '../../src/commands/dispatch.js';
import { createRegistry } from '../../src/commands/registry.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import type { Db } from '../../src/store/db.js';
import { timelineOf } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { createRunsRepository } from '../../src/store/runs-repository.js';
import { firing, notification, parsed, resolved } from '../fixtures/alertmanager/notifications.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const services = ['svc-a', 'svc-b', 'svc-c', 'svc-d', 'svc-e', 'svc-f', 'svc-g', 'svc-h', 'svc-i', 'svc-j'];

const catalog = parseCatalog(
  `version: 1
services:
${services.map((s) => `  ${s}: { name: ${s} }`).join('\n')}
roles:
  oncall: { permissions: [operate], users: [U0ONCALL1] }
defaultRoute: { channel: C0AUTO }
routes:
  - name: web
    match: { team: web }
    channel: C0AUTO
    automations:
      - { alertname: ServiceDown, action: test.bump, after: 30s, maxPerHour: 2 }
`,
  'automation.yml',
  {},
);

/** A destructive action that counts what it did, per service. */
const bumped = new Map<string, number>();
const bump = defineAction({
  id: 'test.bump',
  title: 'Bump',
  description: 'counts',
  risk: 'destructive',
  permission: 'admin',
  input: z.object({ service: z.string() }).strict(),
  timeoutMs: 5_000,
  target: (input) => input.service,
  async run({ input }) {
    await new Promise((r) => setTimeout(r, 50));
    bumped.set(input.service, (bumped.get(input.service) ?? 0) + 1);
    return { ok: true, summary: `bumped ${input.service}`, reply: { text: `✓ Bumped \`${input.service}\`` } };
  },
});
const registry = createRegistry([bump]);
const logger = pino({ level: 'silent' });

interface Instance {
  intake: Intake;
  desk: IncidentDesk;
  runner: AutomationRunner;
}

/** What one Switchboard instance builds around its own connection pool, on a clock the test moves. */
function instance(db: Db, clock: { now: Date }, runnerCatalog = catalog): Instance {
  const now = () => clock.now;
  const projector = createIncidentProjector({ catalog, registry, outbox: createOutbox(), now });
  const schedule = createAutomationScheduler({ catalog, now });
  const onIncidentChanged: IncidentChanged = async (tx, id, events) => {
    await projector(tx, id, events);
    await schedule(tx, id, events);
  };
  const desk = createIncidentDesk({ db, now, onIncidentChanged });
  const dispatcher = createDispatcher({
    registry,
    deps: { catalog } as ActionDeps,
    runs: createRunsRepository(db),
    // Roles exist, and nobody holds `admin`: automations are allowed anyway.
    authorize: createCatalogAuthorizer(catalog, undefined),
    logger,
    newId: randomUUID,
    newRef: () => randomUUID().slice(0, 8),
  });
  const runner = createAutomationRunner({ db, catalog: runnerCatalog, registry, dispatcher, incidents: desk, logger, now });
  return { intake: createIntake({ db, now, onIncidentChanged }), desk, runner };
}

const fire = (i: Instance, service: string, alertname = 'ServiceDown', fingerprint = `${service}-${alertname}-${randomUUID().slice(0, 6)}`, groupKey = `{}:{service="${service}", g="${fingerprint}"}`) =>
  i.intake.receive(parsed(notification([firing(fingerprint, T0.toISOString(), { alertname, service, team: 'web' })], { groupKey, groupLabels: { service } })));

async function tick(...runners: AutomationRunner[]) {
  await Promise.all(runners.map((r) => r.tickNow()));
  await Promise.all(runners.map((r) => r.idle()));
}

describe('automations on PostgreSQL', () => {
  let temp: Awaited<ReturnType<typeof createTempDatabase>>;
  let dbs: Db[];
  const clock = { now: T0 };
  let one: Instance;
  let two: Instance;

  const automationsOf = async (incidentId: string) =>
    (await dbs[0]!.query<{ state: string; reason: string | null; run_status: string | null; action_id: string; target: string }>('SELECT * FROM automations WHERE incident_id = $1 ORDER BY created_at', [incidentId])).rows;
  const runsOn = async (service: string) =>
    (await dbs[0]!.query<{ actor_id: string; actor_name: string; origin: string; status: string }>('SELECT * FROM runs WHERE target = $1 ORDER BY started_at', [service])).rows;
  const thread = async (incidentId: string) =>
    (await timelineOf(dbs[0]!, incidentId)).filter((e) => e.kind === 'run_finished').map((e) => ({ actor: e.actor, ...(e.data as { status: string; summary: string }) }));

  beforeAll(async () => {
    temp = await createTempDatabase('sb_automation');
    dbs = [createPostgresDb(temp.url, { max: 5 }), createPostgresDb(temp.url, { max: 5 })];
    await migrate(dbs[0]!);
    one = instance(dbs[0]!, clock);
    two = instance(dbs[1]!, clock);
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await temp.drop();
  });

  it('runs each due automation once across two instances, as the automation actor, without a confirmation', async () => {
    clock.now = T0;
    const opened = await Promise.all(['svc-a', 'svc-b', 'svc-c', 'svc-d'].map((s) => fire(one, s)));
    clock.now = at(10_000);
    await tick(one.runner, two.runner);
    expect(bumped.get('svc-a')).toBeUndefined();

    clock.now = at(31_000);
    await tick(one.runner, two.runner, one.runner, two.runner);
    for (const s of ['svc-a', 'svc-b', 'svc-c', 'svc-d']) {
      expect(bumped.get(s)).toBe(1);
      expect(await runsOn(s)).toEqual([expect.objectContaining({ actor_id: 'automation', actor_name: 'web/ServiceDown', origin: 'automation', status: 'succeeded' })]);
    }
    for (const o of opened) {
      expect(await automationsOf(o.incidentId)).toEqual([expect.objectContaining({ state: 'done', run_status: 'succeeded', action_id: 'test.bump' })]);
      expect(await thread(o.incidentId)).toEqual([expect.objectContaining({ actor: 'automation', status: 'succeeded', summary: expect.stringMatching(/^Automation `web\/ServiceDown` \(after 30s firing, unacknowledged\):\n✓ Bumped/) })]);
    }
  });

  it('does not run when the incident was acknowledged before `after`, and says why in the thread', async () => {
    clock.now = T0;
    const opened = await fire(one, 'svc-e');
    await one.desk.acknowledge(opened.incidentId, 'U0ONCALL1');
    clock.now = at(31_000);
    await tick(one.runner, two.runner);
    expect(bumped.get('svc-e')).toBeUndefined();
    expect(await automationsOf(opened.incidentId)).toEqual([expect.objectContaining({ state: 'skipped', reason: '<@U0ONCALL1> acknowledged the incident, so people are on it' })]);
    expect(await thread(opened.incidentId)).toEqual([expect.objectContaining({ status: 'refused', summary: 'Automation `web/ServiceDown` skipped: <@U0ONCALL1> acknowledged the incident, so people are on it.' })]);
    expect(await runsOn('svc-e')).toEqual([]);
  });

  it('does not run when the alert stopped firing before `after`', async () => {
    clock.now = T0;
    const fingerprint = 'svc-f-down';
    const groupKey = '{}:{service="svc-f"}';
    const opened = await fire(one, 'svc-f', 'ServiceDown', fingerprint, groupKey);
    clock.now = at(20_000);
    const alert = firing(fingerprint, T0.toISOString(), { alertname: 'ServiceDown', service: 'svc-f', team: 'web' });
    await one.intake.receive(parsed(notification([resolved(alert, at(19_000).toISOString())], { groupKey, groupLabels: { service: 'svc-f' } })));
    clock.now = at(31_000);
    await tick(one.runner);
    expect(bumped.get('svc-f')).toBeUndefined();
    expect(await automationsOf(opened.incidentId)).toEqual([expect.objectContaining({ state: 'skipped', reason: 'the incident is resolved' })]);
  });

  it('schedules when an alert with the rule’s alertname joins, and not for other alertnames', async () => {
    clock.now = T0;
    const groupKey = '{}:{service="svc-g"}';
    const other = firing('svc-g-latency', T0.toISOString(), { alertname: 'HighLatency', service: 'svc-g', team: 'web' });
    const opened = await one.intake.receive(parsed(notification([other], { groupKey, groupLabels: { service: 'svc-g' } })));
    expect(await automationsOf(opened.incidentId)).toEqual([]);

    clock.now = at(5_000);
    const down = firing('svc-g-down', T0.toISOString(), { alertname: 'ServiceDown', service: 'svc-g', team: 'web' });
    await one.intake.receive(parsed(notification([other, down], { groupKey, groupLabels: { service: 'svc-g' } })));
    expect(await automationsOf(opened.incidentId)).toEqual([expect.objectContaining({ state: 'pending' })]);
    clock.now = at(34_000);
    await tick(one.runner);
    expect(bumped.get('svc-g')).toBeUndefined();
    clock.now = at(35_001);
    await tick(one.runner);
    expect(bumped.get('svc-g')).toBe(1);
  });

  it('runs at most maxPerHour times per action and target, counting across incidents and instances', async () => {
    const runFor = async (ms: number) => {
      clock.now = at(ms);
      const opened = await fire(one, 'svc-h');
      clock.now = at(ms + 31_000);
      await tick(one.runner, two.runner);
      return (await automationsOf(opened.incidentId))[0]!;
    };
    expect(await runFor(0)).toMatchObject({ state: 'done' });
    expect(await runFor(60_000)).toMatchObject({ state: 'done' });
    expect(await runFor(120_000)).toMatchObject({ state: 'skipped', reason: 'Bump already ran automatically 2 times on `svc-h` in the last hour, last at 10:01 UTC (maxPerHour: 2)' });
    expect(bumped.get('svc-h')).toBe(2);
    // An hour after the first run, one slot is free again.
    expect(await runFor(3_600_000)).toMatchObject({ state: 'done' });
    expect(bumped.get('svc-h')).toBe(3);
  });

  it('skips a run whose rule was removed from the catalog since it was scheduled', async () => {
    clock.now = T0;
    const opened = await fire(one, 'svc-d', 'ServiceDown');
    const edited = parseCatalog(`version: 1\nservices:\n  svc-d: { name: D }\ndefaultRoute: { channel: C0AUTO }\n`, 'edited.yml', {});
    const restarted = instance(dbs[0]!, clock, edited);
    clock.now = at(31_000);
    await tick(restarted.runner);
    expect(await automationsOf(opened.incidentId)).toEqual([expect.objectContaining({ state: 'skipped', reason: 'the catalog no longer has this rule' })]);
  });

  it('ends a run left behind by an instance that stopped, once, and says so in the thread', async () => {
    clock.now = T0;
    const opened = await fire(one, 'svc-i');
    // As if an instance claimed it and died: running, with a lease that ran out.
    await dbs[0]!.query(`UPDATE automations SET state = 'running', started_at = $2, lease_until = $3 WHERE incident_id = $1`, [opened.incidentId, at(31_000), at(60_000)]);
    clock.now = at(61_000);
    await tick(one.runner, two.runner);
    expect(await automationsOf(opened.incidentId)).toEqual([expect.objectContaining({ state: 'done', run_status: 'failed' })]);
    expect(await thread(opened.incidentId)).toEqual([expect.objectContaining({ status: 'failed', summary: expect.stringContaining('Switchboard stopped while this automatic run was under way') })]);
    expect(bumped.get('svc-i')).toBeUndefined();
  });
});

describe('automations on PGlite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createPgliteDb(undefined);
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
  });

  it('schedules, claims and runs on the embedded store too', async () => {
    const clock = { now: T0 };
    const i = instance(db, clock);
    const opened = await fire(i, 'svc-j');
    clock.now = at(30_000);
    await tick(i.runner);
    expect(bumped.get('svc-j')).toBe(1);
    const { rows } = await db.query<{ state: string }>('SELECT state FROM automations WHERE incident_id = $1', [opened.incidentId]);
    expect(rows).toEqual([{ state: 'done' }]);
  });
});

describe('automation rules that cannot run', () => {
  it('are named at start: unknown actions, and actions that need more than the service', () => {
    const broken = parseCatalog(
      `version: 1
services:
  svc-a: { name: A }
routes:
  - name: web
    match: { team: web }
    channel: C0AUTO
    service: svc-a
    automations:
      - { alertname: ServiceDown, action: service.restart, after: 1m }
      - { alertname: ServiceDown, action: service.explode, after: 1m }
      - { alertname: Noisy, action: silence.create, after: 1m }
`,
      'broken.yml',
      {},
    );
    expect(automationProblems(broken, createRegistry(allActions))).toEqual([
      'routes.web.automations[1]: there is no action "service.explode"',
      'routes.web.automations[2]: silence.create needs more than { service: svc-a } and cannot run automatically',
    ]);
  });
});
