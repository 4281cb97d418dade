/**
 * Silences and reconciliation against real Alertmanagers (an HA pair, clustering off), with
 * Switchboard's clock injected: Alertmanager notifies nothing for a silenced alert, not even its
 * resolution, so Switchboard asks its API v2. Each Alertmanager is reached through a gate (a
 * small HTTP proxy on a fixed port) that the tests can close, to show an outage and its end.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { timelineOf } from '../../src/store/incidents-repository.js';
import { firing, notification } from '../fixtures/alertmanager/notifications.js';
import { postAlerts, startAlertmanager, type Daemon } from '../helpers/alertmanager.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/supervisord.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'e2e-reconcile-webhook-token-0123456789';
const RUN = randomUUID().slice(0, 8);
const MINUTE = 60_000;

interface Gate {
  url: string;
  up: boolean;
  close(): Promise<void>;
}

/** Forwards to `target` while up; while down, drops every connection, as a host that went away. */
async function startGate(target: string): Promise<Gate> {
  const gate = { up: true } as Gate;
  const server = createServer((req, res) => {
    if (!gate.up) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
          const answer = await fetch(`${target}${req.url ?? '/'}`, {
            method: req.method ?? 'GET',
            headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
            ...(body ? { body } : {}),
          });
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
        } catch {
          res.writeHead(502).end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gate.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return gate;
}

let am1: Daemon;
let am2: Daemon;
let gate1: Gate;
let gate2: Gate;
let t: TestSwitchboard;
const { logger, lines } = capturedLogger();
// Switchboard's clock: real time at the start, then moved on by the tests only (never back, so
// each reconciliation claims a new slot).
const clock = { now: new Date(Math.floor(Date.now() / MINUTE) * MINUTE) };
const advance = (minutes: number) => {
  clock.now = new Date(clock.now.getTime() + minutes * MINUTE);
  return clock.now;
};

beforeAll(async () => {
  const port = await freePort();
  am1 = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, bearerToken: TOKEN });
  // The other member of the pair: with clustering off it holds none of am1's alerts or silences.
  am2 = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager`, bearerToken: TOKEN });
  gate1 = await startGate(am1.url);
  gate2 = await startGate(am2.url);
  t = await startTestSwitchboard({
    env: { PORT: String(port), ALERTMANAGER_WEBHOOK_TOKEN: TOKEN },
    overrides: { now: () => clock.now, logger },
    catalogYaml: `
version: 1
services:
  billing: { name: Billing }
defaultRoute: { channel: C0ALERTS, escalation: ladder }
alertmanager:
  urls: ["${gate1.url}", "${gate2.url}"]
  timeout: 2s
  reconcile: { interval: 1m, goneAfter: 0s }
escalationPolicies:
  ladder:
    levels:
      - { delay: 0m, targets: [{ user: U01AAA }] }
      - { delay: 10m, targets: [{ user: U01BBB }] }
      - { delay: 20m, targets: [{ user: U01CCC }] }
`,
  });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await Promise.all([gate1?.close(), gate2?.close()]);
  await Promise.all([am1?.stop(), am2?.stop()]);
});

/** Fires an alert in am1, as Prometheus would, and waits for its incident. */
async function openIncident(service: string): Promise<{ id: string; number: number; labels: Record<string, string> }> {
  const labels = { alertname: 'DiskFull', service, severity: 'critical' };
  await postAlerts(am1.url, [{ labels, annotations: { summary: `disk full on ${service}` } }]);
  const row = await eventually(`the incident of ${service}`, async () => {
    const { rows } = await t.switchboard.db.query<{ id: string; number: number }>(`SELECT id, number FROM incidents WHERE common_labels->>'service' = $1`, [service]);
    return rows[0];
  });
  return { ...row, labels };
}

async function createSilence(labels: Record<string, string>): Promise<string> {
  const res = await fetch(`${am1.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 24 * 60 * MINUTE).toISOString(),
      createdBy: 'alice@example.com',
      comment: 'disk migration',
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { silenceID: string }).silenceID;
}

async function expireSilence(id: string): Promise<void> {
  expect((await fetch(`${am1.url}/api/v2/silence/${id}`, { method: 'DELETE' })).status).toBe(200);
}

// A tick already under way (the background tickers run too) may have read the clock before it
// moved: the second call runs one that sees it.
async function reconcile() {
  await t.switchboard.reconciler!.tickNow();
  await t.switchboard.reconciler!.tickNow();
}
async function escalate() {
  await t.switchboard.escalator.tickNow();
  await t.switchboard.escalator.tickNow();
}

const escalatedLevels = async (id: string) =>
  (await timelineOf(t.switchboard.db, id)).filter((e) => e.kind === 'escalated').map((e) => [(e.data as { level: number }).level, (e.data as { targets: string[] }).targets]);

const status = async (id: string) =>
  (
    await t.switchboard.db.query<{ status: string; silence_id: string | null; silence_by: string | null; next_due_at: Date | null; paused_at: Date | null }>(
      'SELECT i.status, i.silence_id, i.silence_by, e.next_due_at, e.paused_at FROM incidents i JOIN escalations e ON e.incident_id = i.id WHERE i.id = $1',
      [id],
    )
  ).rows[0]!;

/** The parent message as Slack shows it now (the outbox sends edits a few seconds apart). */
async function parentSays(id: string, ...texts: string[]): Promise<string> {
  return eventually(`the parent of ${id} to say ${texts.join(', ')}`, async () => {
    const { rows } = await t.switchboard.db.query<{ ts: string }>('SELECT ts FROM slack_messages WHERE message_key = $1', [`incident:${id}`]);
    const parent = t.slack.messages('C0ALERTS').find((m) => m.ts === rows[0]?.ts);
    const json = JSON.stringify(parent?.blocks ?? '');
    return texts.every((text) => json.includes(text)) && json;
  });
}

async function threadReplies(id: string): Promise<string[]> {
  const { rows } = await t.switchboard.db.query<{ ts: string }>('SELECT ts FROM slack_messages WHERE message_key = $1', [`incident:${id}`]);
  return t.slack
    .messages('C0ALERTS')
    .filter((m) => m.thread_ts === rows[0]?.ts && m.ts !== rows[0]?.ts)
    .map((m) => String(m.text));
}

requires('alertmanager')('silences and reconciliation with real Alertmanagers', () => {
  it('pauses escalation while an Alertmanager silence covers the incident, and resumes at the next level without replaying', async () => {
    const t0 = advance(1).getTime();
    const minute = (at: Date | null) => (at ? (at.getTime() - t0) / MINUTE : null);
    const incident = await openIncident(`billing-${RUN}-a`);
    expect(await eventually('level 1 paged at open', async () => (await escalatedLevels(incident.id)).length === 1 && escalatedLevels(incident.id))).toEqual([[1, ['<@U01AAA>']]]);

    const silenceId = await createSilence(incident.labels);
    advance(2);
    await reconcile();
    expect(await status(incident.id)).toMatchObject({ silence_id: silenceId, silence_by: 'alice@example.com' });
    expect(minute((await status(incident.id)).paused_at)).toBe(2);
    // Alertmanager's createdBy is shown as text (with its @ defused, so it notifies nobody).
    await parentSays(incident.id, 'Silenced', 'alice@', 'example.com', 'paused while silenced');
    await eventually('the thread line', async () => (await threadReplies(incident.id)).some((r) => r.includes('example.com silenced these alerts until')));

    // Level 2 was due at minute 10: nobody is paged while the silence holds.
    advance(28);
    await escalate();
    expect(await escalatedLevels(incident.id)).toEqual([[1, ['<@U01AAA>']]]);

    // The silence ends (expired in Alertmanager, which tells nobody); the next check finds the alert active.
    await expireSilence(silenceId);
    advance(10); // minute 40: paused for 38 minutes
    await reconcile();
    await escalate();
    expect(await status(incident.id)).toMatchObject({ silence_id: null, paused_at: null });
    expect(await escalatedLevels(incident.id)).toEqual([[1, ['<@U01AAA>']]]);
    // Level 2 keeps the 8 minutes it still had when the silence began.
    expect(minute((await status(incident.id)).next_due_at)).toBe(48);
    await parentSays(incident.id, 'level 1 of 3, next');

    advance(8);
    await escalate();
    expect(await escalatedLevels(incident.id)).toEqual([
      [1, ['<@U01AAA>']],
      [2, ['<@U01BBB>']],
    ]);
  });

  it('resolves an incident whose alert resolved while silenced (no notification is sent), saying so in its thread', async () => {
    advance(1);
    const incident = await openIncident(`billing-${RUN}-b`);
    await createSilence(incident.labels);
    advance(1);
    await reconcile();
    expect((await status(incident.id)).silence_by).toBe('alice@example.com');

    // Prometheus resolves it: Alertmanager drops it from its API and, the alert being silenced, notifies nothing.
    await postAlerts(am1.url, [{ labels: incident.labels, endsAt: new Date(Date.now() - 1_000).toISOString() }]);
    await eventually('am1 to drop the alert', async () => {
      const held = (await (await fetch(`${am1.url}/api/v2/alerts?filter=service%3D%22${incident.labels.service}%22`)).json()) as unknown[];
      return held.length === 0;
    });
    const checkedAt = advance(1);
    await reconcile();

    expect(await status(incident.id)).toMatchObject({ status: 'resolved', next_due_at: null });
    const resolvedEvent = (await timelineOf(t.switchboard.db, incident.id)).find((e) => e.kind === 'alerts_resolved');
    expect(resolvedEvent?.data).toMatchObject({ checked: { at: checkedAt.toISOString(), alertmanagers: [gate1.url, gate2.url] } });
    // Only the firing notification ever came: the resolution is the reconciliation's.
    const { rows } = await t.switchboard.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE payload->'commonLabels'->>'service' = $1`, [incident.labels.service]);
    expect(rows[0]!.n).toBe(1);
    await parentSays(incident.id, 'RESOLVED');
    await eventually('the thread line', async () => (await threadReplies(incident.id)).some((r) => r.includes('no longer had it when checked') && r.includes(gate1.url)));
  });

  it('resolves an incident whose resolution was lost, once no reachable Alertmanager of the pair holds its alert', async () => {
    advance(1);
    // Held by am1 only: am2 lacking it does not make it gone.
    const held = await openIncident(`billing-${RUN}-c`);
    // An incident Alertmanager no longer holds anything of (its resolution was dropped on the way).
    const groupKey = `{}:{alertname="DiskFull", service="billing-${RUN}-lost"}`;
    const lost = firing(`lost${RUN}`, new Date(Date.now() - MINUTE).toISOString(), { alertname: 'DiskFull', service: `billing-${RUN}-lost`, severity: 'critical' });
    const res = await fetch(`${t.switchboard.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(notification([lost], { groupKey })),
    });
    expect(res.status).toBe(200);
    const lostId = await eventually('the lost incident', async () => (await t.switchboard.db.query<{ id: string }>('SELECT id FROM incidents WHERE group_key = $1', [groupKey])).rows[0]?.id);

    advance(1);
    await reconcile();
    expect((await status(lostId)).status).toBe('resolved');
    expect((await status(held.id)).status).toBe('firing');

    // am1 goes away: am2, the one still reachable, does not hold it, so it counts as gone. (In a
    // real pair Prometheus sends every alert to both; these two do not share them.)
    gate1.up = false;
    try {
      advance(1);
      await reconcile();
      expect((await status(held.id)).status).toBe('resolved');
      const resolvedEvent = (await timelineOf(t.switchboard.db, held.id)).find((e) => e.kind === 'alerts_resolved');
      expect(resolvedEvent?.data).toMatchObject({ checked: { alertmanagers: [gate2.url] } });
    } finally {
      gate1.up = true;
      advance(1);
      await reconcile();
    }
  });

  it('resolves nothing while no Alertmanager answers, and says so once per outage and once when it is back', async () => {
    advance(1);
    const incident = await openIncident(`billing-${RUN}-d`);
    const said = (text: string, url: string) => lines.filter((l) => l.includes(text) && l.includes(url)).length;
    const before = { down: said('does not answer', gate1.url), up: said('answers again', gate1.url) };

    gate1.up = false;
    gate2.up = false;
    for (let i = 0; i < 3; i++) {
      advance(1);
      await reconcile();
    }
    expect(await status(incident.id)).toMatchObject({ status: 'firing' });
    expect((await timelineOf(t.switchboard.db, incident.id)).map((e) => e.kind)).not.toContain('alerts_resolved');
    expect(said('does not answer', gate1.url)).toBe(before.down + 1);
    expect(said('does not answer', gate2.url)).toBe(1);
    const metrics = await (await fetch(`${t.switchboard.url}/metrics`)).text();
    expect(metrics).toContain(`switchboard_alertmanager_up{alertmanager="${gate1.url}"} 0`);
    expect(metrics).toMatch(/switchboard_reconcile_unreachable_total [1-9]/);

    gate1.up = true;
    gate2.up = true;
    for (let i = 0; i < 2; i++) {
      advance(1);
      await reconcile();
    }
    expect(said('answers again', gate1.url)).toBe(before.up + 1);
    expect(said('answers again', gate2.url)).toBe(1);
    expect((await (await fetch(`${t.switchboard.url}/metrics`)).text()).includes(`switchboard_alertmanager_up{alertmanager="${gate1.url}"} 1`)).toBe(true);
    // am1 still holds it: still firing.
    expect((await status(incident.id)).status).toBe('firing');
  });
});
