/**
 * `/ops oncall` and `/ops oncall override` through signed slash commands, and an incident from
 * POST /alertmanager escalating for real in a running Switchboard (ticker, outbox, fake Slack).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const TOKEN = 'escalation-e2e-token';
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Backend-primary has U01AAA on call the whole time (one participant). */
const CATALOG = `
version: 1
services:
  api-gateway: { name: Resilient API Gateway }
roles:
  operators: { permissions: [operate], users: [U0OPERATOR] }
  watchers: { permissions: [read], users: [U0WATCHER] }
defaultRoute: { channel: C0ALERTS }
schedules:
  backend-primary: { timezone: Europe/Berlin, rotation: weekly, handoffDay: monday, handoff: "09:00", start: "2020-01-06", participants: [U01AAA] }
  nights: { timezone: UTC, rotation: daily, handoff: "21:00", start: "2099-01-01", participants: [U01NIGHT] }
escalationPolicies:
  seed-001:
    levels:
      - { delay: 0m, targets: [{ schedule: backend-primary }] }
      - { delay: 15m, targets: [{ user: U01SENIOR }] }
      - { delay: 30m, targets: [{ usergroup: S01MANAGERS }] }
      - { delay: 60m, targets: [{ user: U01CTO }] }
  night-watch:
    levels:
      - { delay: 5m, targets: [{ schedule: nights }] }
severityPolicies: { critical: seed-001, warning: night-watch }
`;

let t: TestSwitchboard;
let dir: string;
beforeAll(async () => {
  t = await startTestSwitchboard({ catalogYaml: CATALOG, env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN } });
  dir = await mkdtemp(join(tmpdir(), 'switchboard-escalation-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function ops(text: string, userId = 'U0OPERATOR') {
  const responseId = `r-${Math.random().toString(36).slice(2)}`;
  const ack = await t.slash(text, { userId, responseId });
  expect(ack.status).toBe(200);
  const immediate = ack.body ? (JSON.parse(ack.body) as { text?: string }).text : undefined;
  return { immediate, later: () => t.responses.waitFor((r) => r.path.endsWith(`/${responseId}`) && !/^Running/.test(r.body.text ?? ''), 10_000) };
}

describe('/ops oncall', () => {
  it('shows who is on call in each schedule and at each level, and the next handoff', async () => {
    const { later } = await ops('oncall', 'U0WATCHER');
    const answer = await later();
    const text = answer.body.text!;
    expect(answer.body.response_type).toBe('ephemeral');
    expect(text).toContain('*On call now*');
    expect(text).toMatch(/• `backend-primary` \(weekly, hands off monday at 09:00 Europe\/Berlin\): <@U01AAA> until <!date\^\d+\^[^>]+>, then <@U01AAA>/);
    expect(text).toContain('• `nights` (daily, hands off at 21:00 UTC): ⚠️ nobody until <!date^4070984400^');
    expect(text).toContain('*`seed-001`* (severity critical)');
    expect(text).toContain('    L1 at once: <@U01AAA> (`backend-primary`)');
    expect(text).toContain('    L2 after 15m: <@U01SENIOR>');
    expect(text).toContain('    L3 after 30m: <!subteam^S01MANAGERS>');
    expect(text).toContain('    L4 after 1h: <@U01CTO>');
    expect(text).toContain('    L1 after 5m: ⚠️ nobody (`nights`)');
  });

  it('refuses a plain @name, saying how to name the person', async () => {
    const { immediate } = await ops('oncall override backend-primary @standin 2h');
    expect(immediate).toContain('&lt;user&gt; Slack sends an @name in /ops as plain text');
    expect(immediate).toContain('member ID');
    expect(immediate).toContain('Usage: `/ops oncall override &lt;schedule&gt; &lt;user&gt; &lt;duration&gt;`');
    const { rows } = await t.switchboard.db.query('SELECT * FROM oncall_overrides');
    expect(rows).toEqual([]);
  });

  it('refuses an override from someone without the operate permission, and an unknown schedule', async () => {
    const refused = await (await ops('oncall override backend-primary U0STANDIN 2h', 'U0WATCHER')).later();
    expect(refused.body.text).toContain('You need the `operate` permission');
    const unknown = await (await ops('oncall override backend-secondary U0STANDIN 2h')).later();
    expect(unknown.body.text).toContain('there is no schedule `backend-secondary`; the catalog has `backend-primary`, `nights`');
    expect((await t.switchboard.db.query('SELECT * FROM oncall_overrides')).rows).toEqual([]);
  });

  it('sets an override from an escaped mention, shows it, and the next incident pages the stand-in', async () => {
    const answer = await (await ops('oncall override backend-primary <@U0STANDIN|standin> 2h')).later();
    expect(answer.body.response_type).toBe('in_channel');
    expect(answer.body.text).toMatch(/^🔁 <@U0STANDIN> is on call in `backend-primary` until <!date\^\d+\^[^>]+> \(2h, set by <@U0OPERATOR>\)/);
    const { rows } = await t.switchboard.db.query<{ schedule: string; user_id: string; created_by: string; minutes: number }>(
      `SELECT schedule, user_id, created_by, round(extract(epoch FROM ends_at - starts_at) / 60)::int AS minutes FROM oncall_overrides`,
    );
    expect(rows).toEqual([{ schedule: 'backend-primary', user_id: 'U0STANDIN', created_by: 'U0OPERATOR', minutes: 120 }]);

    const shown = await (await ops('oncall', 'U0WATCHER')).later();
    expect(shown.body.text).toMatch(/• `backend-primary` \([^)]*\): <@U0STANDIN> \(override by <@U0OPERATOR>\) until <!date\^\d+\^[^>]+>, then <@U01AAA>/);
    expect(shown.body.text).toContain('    L1 at once: <@U0STANDIN> (`backend-primary`)');

    // A raw member id works too.
    const raw = await (await ops('oncall override nights U0NIGHTOWL 30m')).later();
    expect(raw.body.text).toContain('<@U0NIGHTOWL> is on call in `nights`');

    const body = JSON.stringify(notification([firing('e2e00001', new Date().toISOString(), { severity: 'critical' })], { groupKey: '{}:{alertname="HighErrorRate", e2e="escalation"}' }));
    const res = await fetch(`${t.switchboard.url}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
    expect(res.status).toBe(200);

    const reply = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.text === '📣 Escalated to level 1 of 4: <@U0STANDIN>', 15_000);
    expect(reply.args.channel).toBe('C0ALERTS');
    expect(reply.args.thread_ts).toBeTruthy();
    const open = await t.slack.waitFor((c) => c.method === 'conversations.open' && c.args.users === 'U0STANDIN', 15_000);
    const dmChannel = (open.response.channel as { id: string }).id;
    const dm = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === dmChannel, 15_000);
    expect(String(dm.args.text)).toMatch(/^📟 You are paged for incident #\d+ in <#C0ALERTS>: 🔴 \[critical\] HighErrorRate — api-gateway/);
    const parent = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0ALERTS' && !c.args.thread_ts, 15_000);
    expect(JSON.stringify(parent.args.blocks)).toMatch(/level 1 of 4, next in 1[45]m/);

    const metrics = await (await fetch(`${t.switchboard.url}/metrics`)).text();
    expect(metrics).toContain('switchboard_escalations_total{level="1"} 1');
    expect(metrics).toContain('switchboard_pages_total{target="U0STANDIN"} 1');
    expect(metrics).toContain('switchboard_open_incidents 1');
    // The notification that opened it was applied: nothing waits in the intake queue.
    expect(metrics).toContain('switchboard_notifications_pending 0');
    expect(metrics).toContain('switchboard_notifications_oldest_pending_seconds 0');
    expect(metrics).toContain('# TYPE switchboard_time_to_acknowledge_seconds histogram');
  });
});

describe('switchboard check', () => {
  it('prints who each level would page now, and the gaps it sees', async () => {
    const file = join(dir, 'switchboard.yml');
    await writeFile(file, CATALOG);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check', file], { cwd: root, env: { ...process.env, SWITCHBOARD_CONFIG: '' } });
    expect(stdout).toContain(`${file} is valid.`);
    expect(stdout).toContain('  seed-001 (severity critical):\n    L1 at once: U01AAA\n    L2 after 15m: U01SENIOR\n    L3 after 30m: S01MANAGERS\n    L4 after 1h: U01CTO\n');
    expect(stdout).toContain('  night-watch (severity warning):\n    L1 after 5m: nobody\n      ! L1 would page nobody right now\n');
    expect(stdout).toMatch(/! schedule "nights" has nobody on call from .* beyond the next 14 days/);
    expect(stdout).toContain('Checked offline: Slack user and group ids are not looked up');
  });
});
