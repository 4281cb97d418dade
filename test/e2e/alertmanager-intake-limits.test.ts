/**
 * Nothing Alertmanager sends is refused for ever: it retries a 5xx until the group's next interval
 * and drops a 4xx, so either loses the alert. Each case goes through POST /alertmanager of a
 * running Switchboard, on PostgreSQL and on PGlite, with the outbox writing to the fake Slack.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firing, notification, resolved, ZERO_TIME, type WireAlert, type WireNotification } from '../fixtures/alertmanager/notifications.js';
import { postAlerts, startAlertmanager } from '../helpers/alertmanager.js';
import { appliedIncident } from '../helpers/applied-incident.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'e2e-intake-limits-token-0123456789';
const PROTO_CHANNEL = 'C0PROTO';
const DEFAULT_CHANNEL = 'C0ALERTS';
const MiB = 1024 * 1024;

const CATALOG = `
version: 1
services:
  api-gateway:
    name: API Gateway
    health:
      - { name: gateway, kind: tcp, host: 127.0.0.1, port: 9, timeout: 1s }
defaultRoute: { channel: ${DEFAULT_CHANNEL} }
routes:
  - name: by-constructor
    match: { constructor: "db", __proto__: "x" }
    matchRe: { toString: "te.t" }
    channel: ${PROTO_CHANNEL}
`;

/** Random base64: incompressible, so PostgreSQL cannot squeeze it into a btree entry. */
const incompressible = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);

describe.each(['postgres', 'pglite'] as const)('POST /alertmanager on %s', { timeout: 120_000 }, (store) => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startTestSwitchboard({ store, env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN }, catalogYaml: CATALOG });
  });
  afterAll(async () => {
    await t?.close();
  });

  let groups = 0;
  const groupKey = (name: string) => `{}:{alertname="HighErrorRate", run="${name}-${++groups}"}`;

  async function post(body: string): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${t.switchboard.url}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }
  const send = async (wire: WireNotification): Promise<number> => {
    const answer = await post(JSON.stringify(wire));
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    return appliedIncident(t.switchboard.db, wire.groupKey, 60_000);
  };
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await t.switchboard.db.query<T & object>(sql, params)).rows;
  // Generous: the outbox paces each channel (about a post a second), and earlier tests queue posts in the same one.
  const parentPost = (incident: number) =>
    eventually(
      `the parent message of #${incident}`,
      () => t.slack.callsTo('chat.postMessage').find((c) => c.args.thread_ts === undefined && String(c.args.text).endsWith(`(#${incident})`)),
      90_000,
    );

  // Tests that wait for Slack posts run on PostgreSQL: on PGlite, run after the others in this file, the
  // outbox was seen not to post at all (in a file of their own they pass there too; not yet explained).
  const onSlack = it;
  // PostgreSQL only: the embedded PGlite is for one small instance, and a 25 MiB group there takes minutes on a busy machine.
  if (store === 'postgres') it('accepts a 25 MiB group sent with max_alerts: 0, and stores every alert', async () => {
    const key = groupKey('all-alerts');
    const description = incompressible(5_000);
    const alerts: WireAlert[] = [];
    for (let size = 0; size < 25 * MiB + 4096; ) {
      const alert = firing(`big${String(alerts.length).padStart(6, '0')}`, '2026-03-01T10:00:00Z', { pod: `pod-${alerts.length}` });
      alerts.push({ ...alert, annotations: { ...alert.annotations, description } });
      size += Buffer.byteLength(JSON.stringify(alerts.at(-1))) + 1;
    }
    const wire = notification(alerts, { groupKey: key });
    const body = JSON.stringify(wire);
    expect(Buffer.byteLength(body)).toBeGreaterThanOrEqual(25 * MiB);
    // Not refused: 200, or on a busy machine 503 past the answer budget, with the store still
    // committing it (Alertmanager's retry would then be a harmless duplicate). Never a 413.
    const answer = await post(body);
    expect([200, 503], JSON.stringify(answer.json)).toContain(answer.status);
    const incident = await appliedIncident(t.switchboard.db, key, 120_000);
    const [row] = await query<{ n: number }>('SELECT count(*)::int AS n FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1', [incident]);
    expect(row!.n).toBe(alerts.length);
    expect(String((await parentPost(incident)).args.text)).toContain(`(#${incident})`);
  }, 180_000);

  onSlack('answers 200 to alerts: [] and opens and posts nothing', async () => {
    const key = groupKey('empty');
    const before = t.slack.callsTo('chat.postMessage').length;
    const answer = await post(JSON.stringify(notification([], { groupKey: key })));
    expect(answer).toEqual({ status: 200, json: { ok: true } });
    // A real group sent afterwards is applied; by then anything the empty one caused would be too.
    const later = groupKey('after-empty');
    const incident = await send(notification([firing('after1', '2026-03-01T10:00:00Z')], { groupKey: later }));
    await parentPost(incident);
    expect(await query('SELECT number FROM incidents WHERE group_key = $1', [key])).toEqual([]);
    expect(await query('SELECT id FROM notifications WHERE group_key = $1', [key])).toEqual([]);
    // The only parent posted since is the later group's.
    const parents = t.slack.callsTo('chat.postMessage').slice(before).filter((c) => c.args.thread_ts === undefined);
    expect(parents.map((c) => String(c.args.text))).toEqual([expect.stringContaining(`(#${incident})`)]);
  });

  onSlack("shows Go's zero startsAt as unknown, and a resolved alert with an unknown start fires again", async () => {
    const key = groupKey('zero-time');
    const unknown = { ...firing('zero1', ZERO_TIME), endsAt: ZERO_TIME };
    const incident = await send(notification([unknown], { groupKey: key }));
    const parent = await parentPost(incident);
    const shown = JSON.stringify(parent.args.blocks);
    expect(shown).toContain('*Started*\\nunknown');
    expect(shown).not.toMatch(/0001|739\d{3}d|year/);
    expect(await query('SELECT a.starts_at, i.started_at FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1', [incident])).toEqual([
      { starts_at: null, started_at: null },
    ]);
    // Resolved, then firing again with a start still unknown: the same incident reopens (within the window).
    await send(notification([{ ...resolved(unknown, '2026-03-01T10:05:00Z') }], { groupKey: key }));
    expect((await query<{ status: string }>('SELECT status FROM incidents WHERE number = $1', [incident]))[0]!.status).toBe('resolved');
    expect(await send(notification([unknown], { groupKey: key }))).toBe(incident);
    expect((await query<{ status: string }>('SELECT status FROM incidents WHERE number = $1', [incident]))[0]!.status).toBe('firing');
    // A repeat of the same firing alert is the same episode: nothing new.
    const events = (await query<{ n: number }>('SELECT count(*)::int AS n FROM timeline t JOIN incidents i ON i.id = t.incident_id WHERE i.number = $1', [incident]))[0]!.n;
    await send(notification([unknown], { groupKey: key }));
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM timeline t JOIN incidents i ON i.id = t.incident_id WHERE i.number = $1', [incident]))[0]!.n).toBe(events);
  });

  onSlack('keeps, stores, shows and routes on labels named __proto__, constructor, toString and hasOwnProperty', async () => {
    const key = groupKey('proto');
    // Parsed from JSON: in an object literal, `__proto__` would set the prototype instead.
    const odd = JSON.parse('{"__proto__":"x","constructor":"db","toString":"test","hasOwnProperty":"yes"}') as Record<string, string>;
    // Built as JSON text: an object literal would take `__proto__` as its prototype.
    const alert = (fingerprint: string, pod: string): WireAlert =>
      JSON.parse(JSON.stringify(firing(fingerprint, '2026-03-01T10:00:00Z', { pod })).replace('"labels":{', `"labels":{${JSON.stringify(odd).slice(1, -1)},`)) as WireAlert;
    const common = `"commonLabels":{${JSON.stringify(odd).slice(1, -1)},`;
    const wire = notification([alert('proto1', 'a'), alert('proto2', 'b')], { groupKey: key });
    const body = JSON.stringify(wire).replace('"commonLabels":{', common);
    const answer = await post(body);
    expect(answer.status).toBe(200);
    const incident = await appliedIncident(t.switchboard.db, key);
    const parent = await parentPost(incident);
    expect(parent.args.channel).toBe(PROTO_CHANNEL);
    const [stored] = await query<{ labels: Record<string, string> }>(
      'SELECT a.labels FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1 ORDER BY a.fingerprint LIMIT 1',
      [incident],
    );
    for (const [name, value] of Object.entries(odd)) expect(Object.hasOwn(stored!.labels, name) && stored!.labels[name], name).toBe(value);
    // Shown: the labels that set the two alerts apart are listed, next to the odd ones kept in commonLabels.
    expect(JSON.stringify(parent.args.blocks)).toContain('pod=a');

    // Without the label the route does not match: an absent label is "", never an inherited member.
    const plainKey = groupKey('proto-absent');
    const plain = await send(notification([firing('plain1', '2026-03-01T10:00:00Z', { toString: 'test' })], { groupKey: plainKey }));
    expect((await parentPost(plain)).args.channel).toBe(DEFAULT_CHANNEL);

    // An alert named after an Object member renders (its buttons are looked up by alertname).
    const named = await send(notification([firing('named1', '2026-03-01T10:00:00Z', { alertname: 'constructor' })], { groupKey: groupKey('named') }));
    expect(String((await parentPost(named)).args.text)).toContain('constructor');
  });

  it('accepts what Alertmanager may leave null or out, odd unicode, and one fingerprint twice', async () => {
    const key = groupKey('odd');
    const a = firing('odd1', '2026-03-01T10:00:00Z', { note: 'e\u0301 \u{1F525} \u202Eevil \uD800 \u0000 end' });
    const body = JSON.stringify({
      ...notification([a, { ...a, labels: { ...a.labels, pod: 'second-copy' } }], { groupKey: key }),
      commonAnnotations: null,
      externalURL: null,
      alerts: [
        { ...a, annotations: null, generatorURL: null, endsAt: null },
        { ...a, labels: { ...a.labels, pod: 'second-copy' } },
      ],
    });
    const answer = await post(body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const incident = await appliedIncident(t.switchboard.db, key);
    const rows = await query<{ fingerprint: string; labels: Record<string, string> }>(
      'SELECT a.fingerprint, a.labels FROM alerts a JOIN incidents i ON i.id = a.incident_id WHERE i.number = $1',
      [incident],
    );
    // One row per fingerprint: a second copy of the same episode in one notification is a repeat.
    expect(rows.map((r) => r.fingerprint)).toEqual(['odd1']);
    expect(rows[0]!.labels.note).toBe('e\u0301 \u{1F525} \u202Eevil \uFFFD \uFFFD end');
  });

  it('stores and matches a groupKey and receiver of any length', async () => {
    // Far past the ~2.7 kB a btree entry holds.
    const key = `{}:{alertname="HighErrorRate", service="${incompressible(12_000)}"}`;
    const receiver = `switchboard-${incompressible(4_000)}`;
    const a = firing('long1', '2026-03-01T10:00:00Z');
    const b = firing('long2', '2026-03-01T10:01:00Z');
    const incident = await send(notification([a], { groupKey: key, receiver }));
    // The same group again: matched to the same open incident, not refused, not a second one.
    expect(await send(notification([a, b], { groupKey: key, receiver }))).toBe(incident);
    expect(await send(notification([resolved(a, '2026-03-01T10:05:00Z'), resolved(b, '2026-03-01T10:05:00Z')], { groupKey: key, receiver }))).toBe(incident);
    // Firing again within the reopen window: the group's latest incident is found and reopened.
    expect(await send(notification([firing('long1', '2026-03-01T10:10:00Z')], { groupKey: key, receiver }))).toBe(incident);
    // The same key under another receiver is another group.
    const other = await send(notification([a], { groupKey: key, receiver: 'another-receiver' }));
    expect(other).not.toBe(incident);
    const rows = await query<{ number: number; status: string; group_key: string; receiver: string; alerts: number }>(
      'SELECT number, status, group_key, receiver, (SELECT count(*)::int FROM alerts a WHERE a.incident_id = i.id) AS alerts FROM incidents i WHERE group_key = $1 ORDER BY number',
      [key],
    );
    expect(rows.map((r) => [r.number, r.status, r.receiver === receiver, r.group_key === key, r.alerts])).toEqual([
      [incident, 'firing', true, true, 2],
      [other, 'firing', false, true, 1],
    ]);
    expect(await query("SELECT id FROM notifications WHERE failed_at IS NOT NULL OR last_error IS NOT NULL")).toEqual([]);
  });
});

requires('alertmanager')('a real Alertmanager', () => {
  let t: TestSwitchboard;
  let stopAlertmanager: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    t = await startTestSwitchboard({ env: { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN }, catalogYaml: CATALOG });
  });
  afterAll(async () => {
    await stopAlertmanager?.();
    await t?.close();
  });

  it('delivers a group keyed by a very long label value, and Switchboard opens its incident', async () => {
    const am = await startAlertmanager({ webhookUrl: `${t.switchboard.url}/alertmanager`, bearerToken: TOKEN });
    stopAlertmanager = () => am.stop();
    const service = incompressible(8_000);
    await postAlerts(am.url, [{ labels: { alertname: 'LongGroup', service, instance: 'i1' } }, { labels: { alertname: 'LongGroup', service, instance: 'i2' } }]);
    const [row] = await eventually(
      'the incident of the long group',
      async () => {
        const { rows } = await t.switchboard.db.query<{ group_key: string; n: number }>(
          `SELECT i.group_key, (SELECT count(*)::int FROM alerts a WHERE a.incident_id = i.id) AS n FROM incidents i WHERE i.title = 'LongGroup'`,
        );
        return rows.length > 0 && rows[0]!.n === 2 && rows;
      },
      30_000,
    );
    expect(row!.group_key).toContain(service);
    expect(await t.switchboard.db.query("SELECT id FROM notifications WHERE processed_at IS NULL OR failed_at IS NOT NULL").then((r) => r.rows)).toEqual([]);
  }, 60_000);
});
