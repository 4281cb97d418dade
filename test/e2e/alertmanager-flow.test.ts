/**
 * The whole alert path with real programs: an exporter's gauge → a real Prometheus evaluating the
 * example ServiceDown rule → a real Alertmanager → POST /alertmanager (bearer token) → incident →
 * outbox → the fake Slack. People act through signed requests as Slack sends them: the Silence
 * button opens a modal, the modal's submission creates the silence in Alertmanager, and
 * Alertmanager then really stops notifying.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FAKE_WORKSPACE, type RecordedCall, type StoredMessage } from '../fakes/fake-slack.js';
import { startAlertmanager, type Daemon } from '../helpers/alertmanager.js';
import { eventually as waitUntil } from '../helpers/eventually.js';
import { startExporter, type Exporter } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { FAKE_VERIFICATION_TOKEN, fakeTriggerId, interactionBody, postToSlack } from '../helpers/slack-requests.js';
import { freePort } from '../helpers/supervisord.js';
import { SIGNING_SECRET, startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'e2e-alertmanager-webhook-token-42';
const RULES = fileURLToPath(new URL('../fixtures/rules/api-gateway-service-down.yml', import.meta.url));
const GATEWAY = 'C0GATEWAY';
const DEFAULT = 'C0ALERTS';
const GAUGE = 'gateway_target_up';
/** Alertmanager's group_interval below; "a few group intervals" is three of them. */
const GROUP_INTERVAL_MS = 2_000;
const WAIT = 25_000;

let healthServer: Server;
let exporter: Exporter;
let alertmanager: Daemon;
let prometheus: Daemon;
let t: TestSwitchboard;

beforeAll(async () => {
  healthServer = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => healthServer.listen(0, '127.0.0.1', resolve));
  const healthPort = (healthServer.address() as AddressInfo).port;

  // Alertmanager needs the bot's address in its config and the bot needs Alertmanager's in its
  // catalog: the bot's port is chosen first.
  const botPort = await freePort();
  alertmanager = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${botPort}/alertmanager`,
    bearerToken: TOKEN,
    groupWait: '1s',
    groupInterval: `${GROUP_INTERVAL_MS / 1000}s`,
  });
  t = await startTestSwitchboard({
    env: { PORT: String(botPort), ALERTMANAGER_WEBHOOK_TOKEN: TOKEN },
    catalogYaml: `
version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - { name: gateway, kind: http, url: "http://127.0.0.1:${healthPort}/health", expect: { status: 200 }, timeout: 2s }
    restart: { kind: command, argv: ["true"] }
defaultRoute: { channel: ${DEFAULT} }
routes:
  - name: gateway
    match: { service: api-gateway }
    channel: ${GATEWAY}
    buttons:
      "*": [service.health]
      ServiceDown: [service.restart]
alertmanager: { url: "${alertmanager.url}" }
`,
  });
  expect(t.switchboard.port).toBe(botPort);

  exporter = await startExporter();
  exporter.set(GAUGE, 1, { target: 'proxy' });
  exporter.set(GAUGE, 1, { target: 'upstream' });
  exporter.set(GAUGE, 1, { target: 'canary' });
  prometheus = await startPrometheus({ rulesFiles: [RULES], scrapeTargets: [exporter.target], alertmanagerUrl: alertmanager.url });
});

afterAll(async () => {
  await prometheus?.stop();
  await alertmanager?.stop();
  await t?.close();
  await exporter?.stop();
  if (healthServer) await new Promise((resolve) => healthServer.close(resolve));
});

/** Polls `probe` until it returns something other than undefined/false. */
// Prometheus and Alertmanager take their time: a longer wait than the helper's default.
const eventually: typeof waitUntil = (what, probe, timeoutMs = WAIT) => waitUntil(what, probe, timeoutMs);

const parentPosts = (channel = GATEWAY): RecordedCall[] =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel && c.args.thread_ts === undefined);
const threadReplies = (parentTs: string): RecordedCall[] =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === GATEWAY && c.args.thread_ts === parentTs);

let parentTs: string;
const parent = (): StoredMessage => t.slack.message(GATEWAY, parentTs)!;

interface Button {
  action_id: string;
  value: string;
  confirm?: Record<string, unknown>;
}
const buttonsOf = (message: StoredMessage): Button[] =>
  (message.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : []));
const buttonIds = (message: StoredMessage) => buttonsOf(message).map((b) => b.action_id);
const button = (message: StoredMessage, actionId: string): Button => {
  const found = buttonsOf(message).find((b) => b.action_id === actionId);
  if (!found) throw new Error(`no ${actionId} button on the parent message; it has ${buttonIds(message).join(', ')}`);
  return found;
};
const header = (message: StoredMessage): string =>
  ((message.blocks ?? []).find((b) => (b as { type: string }).type === 'header') as { text: { text: string } } | undefined)?.text.text ?? '';
const factsText = (message: StoredMessage): string =>
  JSON.stringify((message.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === 'incident-facts') ?? {});

async function notificationsStored(): Promise<number> {
  const { rows } = await t.switchboard.db.query<{ n: string }>('SELECT count(*) AS n FROM notifications');
  return Number(rows[0]!.n);
}

interface AmSilence {
  id: string;
  status: { state: string };
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}
async function amSilences(): Promise<AmSilence[]> {
  const res = await fetch(`${alertmanager.url}/api/v2/silences`);
  expect(res.status).toBe(200);
  return (await res.json()) as AmSilence[];
}
async function amAlerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>> {
  const res = await fetch(`${alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent('alertname="ServiceDown"')}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>;
}

/** The body Slack posts when someone submits a modal (view_submission). */
function viewSubmissionBody(view: Record<string, unknown>, user: { id: string; name: string }, values: Record<string, unknown>): string {
  return interactionBody({
    type: 'view_submission',
    team: { id: FAKE_WORKSPACE.teamId, domain: FAKE_WORKSPACE.teamDomain },
    user: { id: user.id, username: user.name, name: user.name, team_id: FAKE_WORKSPACE.teamId },
    api_app_id: FAKE_WORKSPACE.appId,
    token: FAKE_VERIFICATION_TOKEN,
    trigger_id: fakeTriggerId(),
    view: { ...view, state: { values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

requires('prometheus', 'alertmanager')('exporter → Prometheus → Alertmanager → Switchboard → Slack, all real but Slack', () => {
  it('opens one incident with one parent message in the route channel, with its buttons', async () => {
    exporter.set(GAUGE, 0, { target: 'proxy' });
    const post = await t.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === GATEWAY && c.args.thread_ts === undefined, WAIT);
    parentTs = post.response.ts as string;

    expect(post.args.text).toMatch(/FIRING \[critical\] ServiceDown — api-gateway \(#\d+\)/);
    expect(header(parent())).toMatch(/FIRING #\d+ · ServiceDown/);
    expect(buttonIds(parent())).toEqual(['inc:ack', 'inc:resolve', 'inc:silence', 'act:service.health', 'act:service.restart']);
    const restart = button(parent(), 'act:service.restart');
    expect(restart.confirm).toMatchObject({ title: { type: 'plain_text' }, confirm: { type: 'plain_text' }, deny: { type: 'plain_text' }, style: 'danger' });
    expect(JSON.parse(restart.value)).toMatchObject({ v: 1, in: { service: 'api-gateway' } });
    expect(button(parent(), 'act:service.health').confirm).toBeUndefined();

    const { rows } = await t.switchboard.db.query<{ channel: string; route_name: string; status: string }>('SELECT channel, route_name, status FROM incidents');
    expect(rows).toEqual([{ channel: GATEWAY, route_name: 'gateway', status: 'firing' }]);
    expect(parentPosts(DEFAULT)).toEqual([]);
    expect(t.slack.rejected).toEqual([]);
  });

  it('runs a runbook button from the parent and puts its result in the thread', async () => {
    const health = button(parent(), 'act:service.health');
    // A click is checked against the message Switchboard recorded for the incident: the fake Slack
    // answers the post a moment before that record commits, a person never clicks that fast.
    await eventually('the parent ts recorded', async () => (await t.switchboard.db.query('SELECT 1 FROM slack_messages WHERE ts = $1', [parentTs])).rows.length > 0);
    const ack = await t.click({ actionId: 'act:service.health', value: health.value, channelId: GATEWAY, messageTs: parentTs });
    expect(ack.status).toBe(200);
    const reply = await t.slack.waitFor((c) => c.args.thread_ts === parentTs && /Check health/.test(String(c.args.text)), WAIT);
    expect(reply.args.text).toMatch(/✅ \*Check health\* `api-gateway` succeeded — by <@U0OPERATOR>/);
    expect(reply.args.text).toContain('is healthy');
  });

  it('threads a second alert of the same group under the same parent and edits the parent', async () => {
    exporter.set(GAUGE, 0, { target: 'upstream' });
    const reply = await t.slack.waitFor((c) => c.args.thread_ts === parentTs && /started firing/.test(String(c.args.text)), WAIT);
    expect(reply.args.text).toBe('🔴 1 alert started firing (2 firing now).');
    expect(JSON.stringify(reply.args.blocks)).toContain('target=upstream');
    await eventually('the parent edited to 2 firing', () => factsText(parent()).includes('2 firing · 0 resolved'));
    expect(t.slack.callsTo('chat.update').every((c) => c.args.ts === parentTs && c.args.channel === GATEWAY)).toBe(true);
    expect(parentPosts()).toHaveLength(1);
    const { rows } = await t.switchboard.db.query<{ n: string }>('SELECT count(*) AS n FROM incidents');
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('edits the parent to RESOLVED when the gauges recover', async () => {
    exporter.set(GAUGE, 1, { target: 'proxy' });
    exporter.set(GAUGE, 1, { target: 'upstream' });
    await eventually('the parent edited to RESOLVED', () => header(parent()).includes('RESOLVED'));
    expect(parent().text).toMatch(/^✅ RESOLVED /);
    expect(factsText(parent())).toContain('0 firing · 2 resolved');
    expect(factsText(parent())).toContain('by Alertmanager');
    // Nothing left to press on a resolved incident.
    expect(buttonIds(parent())).toEqual([]);
    await t.slack.waitFor((c) => c.args.thread_ts === parentTs && String(c.args.text).startsWith('✅ Resolved: every alert stopped firing'), WAIT);
    expect(parentPosts()).toHaveLength(1);
  });

  let silenceId: string;

  it('silences through the modal: the silence is in Alertmanager with the group labels, and the parent shows it', async () => {
    // Flapping back within the reopen window: the same incident and thread.
    exporter.set(GAUGE, 0, { target: 'proxy' });
    await t.slack.waitFor((c) => c.args.thread_ts === parentTs && /fired again/.test(String(c.args.text)), WAIT);
    await eventually('the parent firing again, with a Silence button', () => buttonIds(parent()).includes('inc:silence'));
    expect(parentPosts()).toHaveLength(1);

    const silence = button(parent(), 'inc:silence');
    const clicked = await t.click({ actionId: 'inc:silence', value: silence.value, channelId: GATEWAY, messageTs: parentTs });
    expect(clicked.status).toBe(200);
    const opened = await t.slack.waitFor((c) => c.method === 'views.open', WAIT);
    expect(opened.response.ok).toBe(true);
    const view = opened.response.view as Record<string, unknown> & { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('silence-modal');

    const submitted = await postToSlack(
      t.switchboard.url,
      '/slack/events',
      viewSubmissionBody(view, { id: 'U0OPERATOR', name: 'alice' }, {
        duration: { choice: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: '1 hour', emoji: true }, value: '1h' } } },
        custom: { value: { type: 'plain_text_input', value: null } },
        comment: { value: { type: 'plain_text_input', value: null } },
      }),
      SIGNING_SECRET,
    );
    // An empty 200 closes the modal.
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');

    const created = await eventually('a silence in Alertmanager', async () => (await amSilences()).find((s) => s.status.state === 'active'));
    silenceId = created.id;
    expect(created.matchers.map(({ name, value, isRegex, isEqual }) => ({ name, value, isRegex, isEqual: isEqual ?? true })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true },
      { name: 'service', value: 'api-gateway', isRegex: false, isEqual: true },
    ]);
    expect(created.createdBy).toBe('slack:alice');
    const lengthMs = Date.parse(created.endsAt) - Date.parse(created.startsAt);
    expect(lengthMs).toBeGreaterThan(59 * 60_000);
    expect(lengthMs).toBeLessThan(61 * 60_000);

    await eventually('the parent showing the silence', () => factsText(parent()).includes(silenceId) && buttonIds(parent()).includes('inc:unsilence'));
    expect(factsText(parent())).toContain('Silenced');
    expect(buttonIds(parent())).not.toContain('inc:silence');
    const reply = await t.slack.waitFor((c) => c.args.thread_ts === parentTs && String(c.args.text).startsWith('🔕'), WAIT);
    expect(reply.args.text).toContain(silenceId);
    expect(reply.args.text).toContain('<@U0OPERATOR> silenced these alerts');
    const { rows } = await t.switchboard.db.query<{ status: string; origin: string }>("SELECT status, origin FROM runs WHERE action_id = 'silence.create'");
    expect(rows).toEqual([{ status: 'succeeded', origin: 'modal' }]);
  });

  it('gets no notification for the silenced group while the silence lasts', async () => {
    const stored = await notificationsStored();
    const replies = threadReplies(parentTs).length;
    exporter.set(GAUGE, 0, { target: 'canary' });
    // The new alert reached Alertmanager, which holds it as silenced by our silence...
    const canary = await eventually('the canary alert silenced in Alertmanager', async () =>
      (await amAlerts()).find((a) => a.labels.target === 'canary' && a.status.silencedBy.includes(silenceId)),
    );
    expect(canary.status.state).toBe('suppressed');
    // ...and for a few group intervals after that, nothing reaches Switchboard or the thread.
    await new Promise((resolve) => setTimeout(resolve, 3 * GROUP_INTERVAL_MS + 1_000));
    expect(await notificationsStored()).toBe(stored);
    expect(threadReplies(parentTs)).toHaveLength(replies);
  });

  it('unsilences: the silence expires in Alertmanager, the parent drops it, and the held alert arrives', async () => {
    const unsilence = button(parent(), 'inc:unsilence');
    const clicked = await t.click({ actionId: 'inc:unsilence', value: unsilence.value, channelId: GATEWAY, messageTs: parentTs });
    expect(clicked.status).toBe(200);
    await eventually('the silence expired in Alertmanager', async () => (await amSilences()).find((s) => s.id === silenceId)?.status.state === 'expired');
    await eventually('the parent without the silence', () => !factsText(parent()).includes(silenceId) && buttonIds(parent()).includes('inc:silence'));
    const removed = await t.slack.waitFor((c) => c.args.thread_ts === parentTs && String(c.args.text).startsWith('🔔'), WAIT);
    expect(removed.args.text).toBe(`🔔 <@U0OPERATOR> removed silence \`${silenceId}\`.`);

    // What the silence held back is delivered now, into the same thread.
    const joined = await t.slack.waitFor((c) => c.args.thread_ts === parentTs && /started firing/.test(String(c.args.text)) && JSON.stringify(c.args.blocks).includes('target=canary'), WAIT);
    expect(joined.args.text).toBe('🔴 1 alert started firing (2 firing now).');
    expect(parentPosts()).toHaveLength(1);
    expect(parentPosts(DEFAULT)).toEqual([]);
    expect(t.slack.rejected).toEqual([]);
  });
});
