import { randomUUID } from 'node:crypto';
import type { Logger as SlackLogger, LogLevel } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnCallOverrides } from '../../src/alerts/escalation/oncall-overrides.js';
import { createNotificationProcessor } from '../../src/alerts/notification-processor.js';
import { renderIncident } from '../../src/alerts/render-incident.js';
import { createSlackChatPoster, createSlackWebClient } from '../../src/integrations/slack/chat-poster.js';
import { createOutboxSender, type OutboxSender } from '../../src/integrations/slack/outbox-sender.js';
import type { Db } from '../../src/store/db.js';
import { incidentView, timelineOf } from '../../src/store/incidents-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createPostgresDb } from '../../src/store/postgres-db.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { firing, notification, parsed, resolved } from '../fixtures/alertmanager/notifications.js';
import { at, buildWorld, escalationCatalog, ESCALATION_CATALOG, T0, type World } from '../fixtures/escalation/world.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const silentSlackLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => 'error' as LogLevel,
  setName: () => {},
};

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let slack: FakeSlack;
beforeAll(async () => {
  temp = await createTempDatabase('sb_escalation');
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await temp?.drop();
});

describe.each([
  ['PostgreSQL', () => Promise.resolve(createPostgresDb(temp.url, { max: 5 }))],
  ['PGlite', () => createPgliteDb(undefined)],
] as const)('escalation on %s', (_, openDb) => {
  let db: Db;
  let world: World;
  let sender: OutboxSender;
  const clock = { now: T0 };

  beforeAll(async () => {
    db = await openDb();
    await migrate(db);
    slack.reset(); // incident numbers start again at 1 in each database
    world = buildWorld(db, clock);
    const poster = createSlackChatPoster(createSlackWebClient({ token: 'xoxb-test-token', slackApiUrl: slack.url, logger: silentSlackLogger, timeoutMs: 5_000 }));
    sender = createOutboxSender({ db, poster, logger: pino({ level: 'silent' }), perChannelIntervalMs: 0, updateIntervalMs: 0 });
  });
  afterAll(async () => {
    await sender?.stop();
    await db?.close();
  });

  /** Opens an incident of its own alert group at `minute`, with `labels` on its alert. */
  async function open(minute: number, labels: Record<string, string>) {
    clock.now = at(minute);
    const groupKey = `{}:{alertname="HighErrorRate", run="${randomUUID()}"}`;
    const alert = firing(randomUUID().slice(0, 8), at(minute).toISOString(), labels);
    const received = await world.intake.receive(parsed(notification([alert], { groupKey })));
    return { ...received, groupKey, alert };
  }
  async function tickAt(minute: number) {
    clock.now = at(minute);
    await world.escalator.tickNow();
  }
  const escalated = async (incidentId: string) =>
    (await timelineOf(db, incidentId))
      .filter((e) => e.kind === 'escalated')
      .map((e) => ({ minute: (e.at.getTime() - T0.getTime()) / 60_000, ...(e.data as { level: number; levels: number; targets: string[]; due?: unknown }) }));
  const steps = async (incidentId: string) =>
    (
      await db.query<{ step: number; level: number; due_at: Date; collapsed: number; targets: string[]; nobody: string[] }>(
        'SELECT step, level, due_at, collapsed, targets, nobody FROM escalation_steps WHERE incident_id = $1 ORDER BY episode, step',
        [incidentId],
      )
    ).rows.map((r) => ({ step: r.step, level: r.level, dueMinute: (new Date(r.due_at).getTime() - T0.getTime()) / 60_000, collapsed: r.collapsed, targets: r.targets, nobody: r.nobody }));
  const progress = async (incidentId: string) =>
    (await db.query<{ notified_steps: number; next_due_at: Date | null }>('SELECT notified_steps, next_due_at FROM escalations WHERE incident_id = $1', [incidentId])).rows[0];
  async function drain() {
    for (let n = await sender.drainOnce(); n > 0; n = await sender.drainOnce());
  }
  /** The incident's thread replies and DMs about it, as Slack has them. */
  async function inSlack(incidentId: string, number: number, channel = 'C0ALERTS') {
    await drain();
    const { rows } = await db.query<{ ts: string }>('SELECT ts FROM slack_messages WHERE message_key = $1', [`incident:${incidentId}`]);
    const ts = rows[0]?.ts;
    const all = slack.messages(channel);
    const parent = all.find((m) => m.ts === ts);
    const replies = all.filter((m) => m.thread_ts === ts && m.ts !== ts).map((m) => m.text);
    const dms = slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.args.channel).startsWith('D') && String(c.args.text).includes(`incident #${number} `))
      .map((c) => ({ channel: String(c.args.channel), text: String(c.args.text) }));
    return { parent, replies, dms };
  }
  const dmChannelOf = async (userId: string) =>
    (await db.query<{ channel: string }>('SELECT channel FROM slack_dm_channels WHERE user_id = $1', [userId])).rows[0]?.channel;

  it("escalates through seed 001's four levels at 0, 15, 30 and 60 minutes, in the thread and by DM", async () => {
    const incident = await open(0, { severity: 'critical' });
    expect(await escalated(incident.incidentId)).toEqual([{ minute: 0, level: 1, levels: 4, targets: ['<@U01CCC>'] }]);

    for (const minute of [1, 14, 15, 16, 29, 30, 45, 59, 60, 61, 120, 24 * 60]) await tickAt(minute);

    expect(await escalated(incident.incidentId)).toEqual([
      { minute: 0, level: 1, levels: 4, targets: ['<@U01CCC>'] },
      { minute: 15, level: 2, levels: 4, targets: ['<@U01SENIOR>'] },
      { minute: 30, level: 3, levels: 4, targets: ['<!subteam^S01MANAGERS>'] },
      { minute: 60, level: 4, levels: 4, targets: ['<@U01CTO>'] },
    ]);
    expect((await steps(incident.incidentId)).map((s) => [s.step, s.dueMinute, s.collapsed])).toEqual([
      [0, 0, 0],
      [1, 15, 0],
      [2, 30, 0],
      [3, 60, 0],
    ]);
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 4, next_due_at: null });

    const { parent, replies, dms } = await inSlack(incident.incidentId, incident.number);
    expect(replies).toEqual([
      '📣 Escalated to level 1 of 4: <@U01CCC>',
      '📣 Escalated to level 2 of 4: <@U01SENIOR>',
      '📣 Escalated to level 3 of 4: <!subteam^S01MANAGERS>',
      '📣 Escalated to level 4 of 4: <@U01CTO>',
    ]);
    expect(JSON.stringify(parent?.blocks)).toContain('level 4 of 4 (last)');
    // Users get a DM each; the user group is notified by its mention in the thread.
    expect(dms.map((d) => d.channel)).toEqual([await dmChannelOf('U01CCC'), await dmChannelOf('U01SENIOR'), await dmChannelOf('U01CTO')]);
    expect(dms[1]!.text).toContain(`You are paged for incident #${incident.number} in <#C0ALERTS>`);
    expect(dms[1]!.text).toContain('Not acknowledged after 15m (level 2 of 4)');

    const metrics = await world.metrics.getSingleMetricAsString('switchboard_escalations_total');
    for (const level of [1, 2, 3, 4]) expect(metrics).toMatch(new RegExp(`switchboard_escalations_total\\{level="${level}"\\} [1-9]`));
    expect(await world.metrics.getSingleMetricAsString('switchboard_pages_total')).toMatch(/switchboard_pages_total\{target="S01MANAGERS"\} [1-9]/);
    expect(world.errors).toEqual([]);
  });

  it('pages each incident a batch opens once, with its thread and DM, as when they arrive one by one', async () => {
    clock.now = at(0);
    const run = randomUUID();
    const groups = { critical: { severity: 'critical' }, payments: { severity: 'critical', team: 'payments' }, warning: { severity: 'warning' } };
    for (const [name, labels] of Object.entries(groups)) {
      const alert = firing(`${name}-${run}`.slice(0, 16), at(0).toISOString(), labels);
      await world.intake.accept(parsed(notification([alert], { groupKey: `{}:{batch="${run}", group="${name}"}` })));
    }
    const { logger, lines } = capturedLogger();
    await createNotificationProcessor({ db, intake: world.intake, logger, batchSize: 10 }).drain();
    expect(lines.filter((l) => l.includes('could not be applied together'))).toEqual([]);
    expect(lines.filter((l) => l.includes('alertmanager notification applied'))).toHaveLength(3);

    const { rows } = await db.query<{ id: string; number: number; group_key: string }>('SELECT id, number, group_key FROM incidents WHERE group_key LIKE $1', [`%batch="${run}"%`]);
    const incident = (name: string) => rows.find((r) => r.group_key.includes(`group="${name}"`))!;
    const critical = incident('critical');
    const payments = incident('payments');
    const warning = incident('warning');
    expect(await escalated(critical.id)).toEqual([{ minute: 0, level: 1, levels: 4, targets: ['<@U01CCC>'] }]);
    expect(await escalated(payments.id)).toEqual([{ minute: 0, level: 1, levels: 1, targets: ['<@U01PAY>'] }]);
    expect(await escalated(warning.id)).toEqual([]);
    expect(await progress(warning.id)).toEqual({ notified_steps: 0, next_due_at: at(5) });

    const criticalInSlack = await inSlack(critical.id, critical.number);
    expect(criticalInSlack.replies).toEqual(['📣 Escalated to level 1 of 4: <@U01CCC>']);
    expect(JSON.stringify(criticalInSlack.parent?.blocks)).toContain('level 1 of 4');
    expect(criticalInSlack.dms.map((d) => d.channel)).toEqual([await dmChannelOf('U01CCC')]);
    const paymentsInSlack = await inSlack(payments.id, payments.number, 'C0PAYMENTS');
    expect(paymentsInSlack.replies).toEqual(['📣 Escalated to level 1 of 1: <@U01PAY>']);
    expect(paymentsInSlack.dms.map((d) => d.text)).toEqual([expect.stringContaining(`You are paged for incident #${payments.number} in <#C0PAYMENTS>`)]);
    expect((await inSlack(warning.id, warning.number)).replies).toEqual([]);
    expect(world.errors).toEqual([]);
  });

  it('shows the level and the next step on the parent message', async () => {
    const incident = await open(0, { severity: 'critical' });
    await tickAt(15);
    const view = await incidentView(db, incident.incidentId);
    expect(view?.escalation).toEqual({ level: 2, levels: 4, nextAt: at(30) });
    expect(JSON.stringify(renderIncident(view!, at(16)).blocks)).toContain('level 2 of 4, next in 14m');
    const { parent } = await inSlack(incident.incidentId, incident.number);
    expect(JSON.stringify(parent?.blocks)).toContain('level 2 of 4, next in 15m');
  });

  it('stops at once when someone acknowledges between two levels', async () => {
    const incident = await open(0, { severity: 'critical' });
    await tickAt(15);
    clock.now = at(20);
    const ack = await world.desk.acknowledge(incident.incidentId, 'U01SENIOR');
    expect(ack.events.map((e) => e.kind)).toEqual(['acknowledged']);
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 2, next_due_at: null });
    for (const minute of [30, 60, 180]) await tickAt(minute);

    expect((await escalated(incident.incidentId)).map((e) => e.level)).toEqual([1, 2]);
    const view = await incidentView(db, incident.incidentId);
    expect(view?.escalation).toEqual({ level: 2, levels: 4 });
    expect(JSON.stringify(renderIncident(view!, at(30)).blocks)).toContain('level 2 of 4, stopped');
    const { replies } = await inSlack(incident.incidentId, incident.number);
    expect(replies.at(-1)).toBe('👀 <@U01SENIOR> acknowledged. Escalation stopped.');
    expect(await world.metrics.getSingleMetricAsString('switchboard_time_to_acknowledge_seconds')).toMatch(/_count\{severity="critical"\} [1-9]/);
  });

  it('stops when Alertmanager resolves the incident', async () => {
    const incident = await open(0, { severity: 'critical' });
    await tickAt(15);
    clock.now = at(20);
    const done = await world.intake.receive(parsed(notification([resolved(incident.alert, at(19).toISOString())], { groupKey: incident.groupKey })));
    expect(done.events.map((e) => e.kind)).toEqual(['alerts_resolved', 'resolved']);
    for (const minute of [30, 60]) await tickAt(minute);

    expect((await escalated(incident.incidentId)).map((e) => e.level)).toEqual([1, 2]);
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 2, next_due_at: null });
    expect(await world.metrics.getSingleMetricAsString('switchboard_time_to_resolve_seconds')).toMatch(/_sum\{severity="critical"\} [1-9]/);
  });

  it('stops when a step is due but the incident was resolved by a person before the tick', async () => {
    const incident = await open(0, { severity: 'critical' });
    // As if another instance had claimed the row before the resolve's own update of it:
    // the claim re-reads the incident under its lock and finds it resolved.
    await db.query('UPDATE incidents SET status = $2, resolved_at = $3, resolved_by = $4 WHERE id = $1', [incident.incidentId, 'resolved', at(14), 'U01CCC']);
    await tickAt(15);
    expect((await escalated(incident.incidentId)).map((e) => e.level)).toEqual([1]);
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 1, next_due_at: null });
  });

  it('repeats the ladder as the policy says', async () => {
    const incident = await open(0, { severity: 'critical', team: 'twice' });
    for (let minute = 1; minute <= 40; minute++) await tickAt(minute);
    expect((await escalated(incident.incidentId)).map((e) => [e.minute, e.level, e.targets])).toEqual([
      [0, 1, ['<@U01AAA>']],
      [10, 2, ['<@U01SENIOR>']],
      [15, 1, ['<@U01AAA>']],
      [25, 2, ['<@U01SENIOR>']],
    ]);
  });

  it('pages once for steps missed while nothing ran, naming the people of every level due', async () => {
    const incident = await open(0, { severity: 'critical' });
    await tickAt(61);
    expect((await escalated(incident.incidentId)).map((e) => [e.minute, e.level, e.targets])).toEqual([
      [0, 1, ['<@U01CCC>']],
      [61, 4, ['<@U01SENIOR>', '<!subteam^S01MANAGERS>', '<@U01CTO>']],
    ]);
    expect((await steps(incident.incidentId)).at(-1)).toMatchObject({ step: 3, dueMinute: 60, collapsed: 2 });
    const { replies, dms } = await inSlack(incident.incidentId, incident.number);
    expect(replies.at(-1)).toBe('📣 Escalated to level 4 of 4; levels 2, 3, 4 were due at once: L2 <@U01SENIOR> · L3 <!subteam^S01MANAGERS> · L4 <@U01CTO>');
    const dmTo = async (user: string) => {
      const channel = await dmChannelOf(user);
      return dms.filter((d) => d.channel === channel).map((d) => /\(level \d of 4\)/.exec(d.text)?.[0]);
    };
    expect(dms).toHaveLength(3);
    expect(await dmTo('U01CCC')).toEqual(['(level 1 of 4)']);
    expect(await dmTo('U01SENIOR')).toEqual(['(level 2 of 4)']);
    expect(await dmTo('U01CTO')).toEqual(['(level 4 of 4)']);
  });

  it('never skips level 1: a notification applied after level 2 was due pages both levels at once', async () => {
    // Stored at minute 0, applied at minute 20 (a burst, a slow store, Switchboard down meanwhile).
    clock.now = at(0);
    const groupKey = `{}:{alertname="HighErrorRate", run="${randomUUID()}"}`;
    await world.intake.accept(parsed(notification([firing(randomUUID().slice(0, 8), at(0).toISOString(), { severity: 'critical' })], { groupKey })));
    clock.now = at(20);
    await createNotificationProcessor({ db, intake: world.intake, logger: pino({ level: 'silent' }) }).drain();
    const { rows } = await db.query<{ id: string; number: number }>('SELECT id, number FROM incidents WHERE group_key = $1', [groupKey]);
    const incident = rows[0]!;

    expect(await escalated(incident.id)).toEqual([{ minute: 20, level: 2, levels: 4, targets: ['<@U01CCC>', '<@U01SENIOR>'], due: [{ level: 1, targets: ['<@U01CCC>'] }, { level: 2, targets: ['<@U01SENIOR>'] }] }]);
    const { replies, dms, parent } = await inSlack(incident.id, incident.number);
    const dmCcc = await dmChannelOf('U01CCC');
    expect(replies).toEqual(['📣 Escalated to level 2 of 4; levels 1, 2 were due at once: L1 <@U01CCC> · L2 <@U01SENIOR>']);
    expect(dms.map((d) => d.channel).sort()).toEqual([await dmChannelOf('U01CCC'), await dmChannelOf('U01SENIOR')].sort());
    expect(dms.find((d) => d.channel === dmCcc)?.text).toContain('(level 1 of 4)');
    expect(JSON.stringify(parent?.blocks)).toContain('level 2 of 4');
    // The next level keeps its own time.
    await tickAt(29);
    await tickAt(30);
    expect((await escalated(incident.id)).map((e) => [e.minute, e.level])).toEqual([
      [20, 2],
      [30, 3],
    ]);
  });

  it('pauses while a silence covers the incident and, when it ends by itself, resumes with the time the next level still had', async () => {
    const incident = await open(0, { severity: 'critical' });
    clock.now = at(5);
    await world.desk.setSilence(incident.incidentId, { silenceId: '8b4f1c0e-0000-4000-8000-000000000001', endsAt: at(60), by: 'U01CCC' });
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 1, next_due_at: at(60) });
    for (const minute of [15, 30, 45, 59]) await tickAt(minute);
    expect((await escalated(incident.incidentId)).map((e) => e.level)).toEqual([1]);
    const view = await incidentView(db, incident.incidentId);
    expect(JSON.stringify(renderIncident(view!, at(20)).blocks)).toContain('level 1 of 4, paused while silenced');

    // The silence's end passes with nobody telling Switchboard: the ladder resumes on its own, 10
    // minutes before level 2 as when it paused at minute 5, and level 1 is not paged again.
    await tickAt(60);
    expect(await progress(incident.incidentId)).toEqual({ notified_steps: 1, next_due_at: at(70) });
    await tickAt(69);
    await tickAt(70);
    expect((await escalated(incident.incidentId)).map((e) => [e.minute, e.level])).toEqual([
      [0, 1],
      [70, 2],
    ]);
  });

  it("picks the route's policy, else the severity's, else none", async () => {
    const warning = await open(0, { severity: 'warning' });
    const payments = await open(0, { severity: 'warning', team: 'payments' });
    const info = await open(0, { severity: 'info' });
    expect(await escalated(warning.incidentId)).toEqual([]);
    expect(await escalated(payments.incidentId)).toEqual([{ minute: 0, level: 1, levels: 1, targets: ['<@U01PAY>'] }]);
    await tickAt(5);
    expect(await escalated(warning.incidentId)).toEqual([{ minute: 5, level: 1, levels: 1, targets: ['<!subteam^S01WARN>'] }]);

    const policies = await db.query<{ id: string; policy: string | null }>(
      `SELECT id, escalation_policy ->> 'policy' AS policy FROM incidents WHERE id IN ($1, $2, $3)`,
      [warning.incidentId, payments.incidentId, info.incidentId],
    );
    expect(Object.fromEntries(policies.rows.map((r) => [r.id, r.policy]))).toEqual({
      [warning.incidentId]: 'warning-ladder',
      [payments.incidentId]: 'payments-ladder',
      [info.incidentId]: null,
    });
    expect(await progress(info.incidentId)).toBeUndefined();
  });

  it('keeps the policy frozen at open when the catalog changes', async () => {
    const incident = await open(0, { severity: 'critical' });
    // The next start runs an edited catalog: the senior level now pages someone else.
    const edited = buildWorld(db, clock, { catalog: escalationCatalog(ESCALATION_CATALOG.replace('{ user: U01SENIOR }', '{ user: U01NEWLEAD }')) });
    clock.now = at(15);
    await edited.escalator.tickNow();
    expect((await escalated(incident.incidentId)).at(-1)?.targets).toEqual(['<@U01SENIOR>']);
    // New incidents take the edited policy.
    const later = await open(16, { severity: 'critical' });
    clock.now = at(31);
    await edited.escalator.tickNow();
    const { rows } = await db.query<{ targets: unknown }>(`SELECT escalation_policy -> 'levels' -> 1 -> 'targets' AS targets FROM incidents WHERE id = $1`, [later.incidentId]);
    expect(rows[0]!.targets).toEqual([{ kind: 'user', userId: 'U01SENIOR' }]);
  });

  it('warns in the thread when a level resolves to nobody, instead of skipping it', async () => {
    const incident = await open(0, { severity: 'critical', team: 'nightshift' });
    expect(await escalated(incident.incidentId)).toEqual([{ minute: 0, level: 1, levels: 1, targets: [] }]);
    expect((await steps(incident.incidentId))[0]!.nobody).toEqual(['nobody is on call in schedule "nightshift" until Thu 2099-01-01 21:00 UTC']);
    const { replies } = await inSlack(incident.incidentId, incident.number);
    expect(replies).toEqual([
      '📣 Escalated to level 1 of 1 (this level names nobody)',
      expect.stringMatching(/^⚠️ Level 1 of 1: This level pages nobody: nobody is on call in schedule "nightshift" until Thu 2099-01-01 21:00 UTC\. Page someone by hand/),
    ]);
    expect(await world.metrics.getSingleMetricAsString('switchboard_pages_total')).toMatch(/target="nobody"\} [1-9]/);
  });

  it('pages the stand-in of an override set after the incident opened (overrides are read live)', async () => {
    const incident = await open(0, { severity: 'critical', team: 'handover' });
    await createOnCallOverrides(db).add({ schedule: 'backend-primary', userId: 'U0STANDIN', startsAt: at(5), endsAt: at(65), createdBy: 'U01CCC', createdAt: at(5) });
    try {
      await tickAt(10);
      expect((await escalated(incident.incidentId)).map((e) => [e.minute, e.level, e.targets])).toEqual([
        [0, 1, ['<@U01AAA>']],
        [10, 2, ['<@U0STANDIN>']],
      ]);
    } finally {
      await db.query('DELETE FROM oncall_overrides');
    }
  });

  it('starts the ladder again when the incident reopens', async () => {
    const incident = await open(0, { severity: 'critical' });
    clock.now = at(2);
    await world.intake.receive(parsed(notification([resolved(incident.alert, at(2).toISOString())], { groupKey: incident.groupKey })));
    await tickAt(15);
    clock.now = at(20);
    const again = firing(incident.alert.fingerprint, at(20).toISOString(), { severity: 'critical' });
    const reopened = await world.intake.receive(parsed(notification([again], { groupKey: incident.groupKey })));
    expect(reopened.events.map((e) => e.kind)).toContain('reopened');
    await tickAt(34);
    await tickAt(35);
    expect((await escalated(incident.incidentId)).map((e) => [e.minute, e.level])).toEqual([
      [0, 1],
      [20, 1],
      [35, 2],
    ]);
  });

  it('reminds the acknowledger every remindAfter while the incident keeps firing', async () => {
    const incident = await open(0, { severity: 'critical', team: 'sre' });
    clock.now = at(5);
    await world.desk.acknowledge(incident.incidentId, 'U01SRE');
    for (const minute of [30, 64]) await tickAt(minute);
    let { replies } = await inSlack(incident.incidentId, incident.number);
    expect(replies.filter((r) => r.startsWith('⏰'))).toEqual([]);

    await tickAt(65);
    await tickAt(66);
    // Down for two hours: the missed reminders fold into one.
    await tickAt(200);
    ({ replies } = await inSlack(incident.incidentId, incident.number));
    expect(replies.filter((r) => r.startsWith('⏰'))).toEqual([
      '⏰ <@U01SRE>, you acknowledged this incident 1h ago and it is still firing. Resolve it when it is fixed, or hand it over.',
      '⏰ <@U01SRE>, you acknowledged this incident 3h 15m ago and it is still firing. Resolve it when it is fixed, or hand it over.',
    ]);
    expect((await progress(incident.incidentId))?.next_due_at).toEqual(at(245));
    // No level after the acknowledgement.
    expect((await escalated(incident.incidentId)).map((e) => e.level)).toEqual([1]);

    clock.now = at(210);
    await world.desk.resolve(incident.incidentId, 'U01SRE');
    await tickAt(300);
    ({ replies } = await inSlack(incident.incidentId, incident.number));
    expect(replies.filter((r) => r.startsWith('⏰'))).toHaveLength(2);
    expect(await progress(incident.incidentId)).toMatchObject({ next_due_at: null });
  });

  it('counts open incidents at each scrape', async () => {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE status = 'firing'`);
    expect(await world.metrics.getSingleMetricAsString('switchboard_open_incidents')).toContain(`switchboard_open_incidents ${rows[0]!.n}`);
    await open(0, { severity: 'info' });
    expect(await world.metrics.getSingleMetricAsString('switchboard_open_incidents')).toContain(`switchboard_open_incidents ${rows[0]!.n + 1}`);
  });
});
