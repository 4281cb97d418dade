import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlertmanagerConfig,
  createAlertmanagerClient,
  matchersFromLabels,
  SilenceNotFoundError,
  type Silencer,
} from '../../src/integrations/alertmanager/index.js';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { postAlerts, startAlertmanager, startWebhookRecorder, type Daemon, type WebhookRecorder } from '../helpers/alertmanager.js';
import { freePort } from '../helpers/supervisord.js';
import { requires } from '../helpers/requires.js';

const HOUR = 3_600_000;

let recorder: WebhookRecorder;
let alertmanager: Daemon;
let silencer: Silencer;

const silenceFor = (labels: Record<string, string>, endsAt = new Date(Date.now() + HOUR)) => ({
  matchers: matchersFromLabels(labels),
  startsAt: new Date(),
  endsAt,
  createdBy: 'Switchboard for @alice',
  comment: 'Deploy in progress',
});

async function rejection(promise: Promise<unknown>): Promise<IntegrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IntegrationError);
  return error as IntegrationError;
}

requires('alertmanager')('Alertmanager API v2 client against a real Alertmanager', () => {
  // Here, not at the top: the stand-in tests below run without an Alertmanager installed.
  beforeAll(async () => {
    recorder = await startWebhookRecorder();
    alertmanager = await startAlertmanager({ webhookUrl: recorder.url });
    silencer = createAlertmanagerClient(AlertmanagerConfig.parse({ url: alertmanager.url }));
  });

  afterAll(async () => {
    await alertmanager?.stop();
    await recorder?.stop();
  });

  it('creates a silence from group labels and reads it back', async () => {
    const endsAt = new Date(Date.now() + 2 * HOUR);
    const { id } = await silencer.create(silenceFor({ service: 'billing', alertname: 'DiskFull' }, endsAt));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const silence = await silencer.get(id);
    expect(silence).toMatchObject({
      id,
      status: 'active',
      createdBy: 'Switchboard for @alice',
      comment: 'Deploy in progress',
      matchers: [
        { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
        { name: 'service', value: 'billing', isRegex: false, isEqual: true },
      ],
    });
    // Alertmanager keeps millisecond precision.
    expect(silence.endsAt.getTime()).toBe(endsAt.getTime());
  });

  it('lists a firing alert, reports it silenced, and active again once the silence is expired', async () => {
    const labels = { alertname: 'HighLatency', service: 'api-gateway' };
    await postAlerts(alertmanager.url, [
      { labels: { ...labels, instance: 'gw-1', severity: 'warning' } },
      { labels: { alertname: 'HighLatency', service: 'other-service', instance: 'o-1' } },
    ]);
    const matchers = matchersFromLabels(labels);

    const before = await silencer.firingAlerts(matchers);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({
      fingerprint: expect.stringMatching(/^[0-9a-f]+$/),
      labels: { ...labels, instance: 'gw-1', severity: 'warning' },
      status: { state: 'active', silencedBy: [] },
    });

    const { id } = await silencer.create(silenceFor(labels));
    await expect.poll(async () => (await silencer.firingAlerts(matchers))[0]?.status, { timeout: 5_000 }).toMatchObject({
      state: 'suppressed',
      silencedBy: [id],
    });
    // The other service's alert is not covered by this incident's silence.
    const other = await silencer.firingAlerts(matchersFromLabels({ alertname: 'HighLatency', service: 'other-service' }));
    expect(other[0]?.status).toMatchObject({ state: 'active', silencedBy: [] });

    await silencer.expire(id);
    expect((await silencer.get(id)).status).toBe('expired');
    // Expiring an expired silence is what the caller wanted already.
    await expect(silencer.expire(id)).resolves.toBeUndefined();
    await expect.poll(async () => (await silencer.firingAlerts(matchers))[0]?.status.state, { timeout: 5_000 }).toBe('active');
  });

  it('filters on label values with quotes and backslashes exactly', async () => {
    const labels = { alertname: 'OddLabels', service: 'we"ird\\name' };
    await postAlerts(alertmanager.url, [{ labels }, { labels: { alertname: 'OddLabels', service: 'we"ird' } }]);
    const found = await silencer.firingAlerts(matchersFromLabels(labels));
    expect(found.map((a) => a.labels)).toEqual([labels]);
  });

  it("turns a 400 into an IntegrationError with Alertmanager's reason", async () => {
    const error = await rejection(
      silencer.create({ ...silenceFor({ alertname: 'X' }), matchers: [{ name: 'alertname', value: '(', isRegex: true }] }),
    );
    expect(error.message).toContain(`Alertmanager at ${alertmanager.url} rejected the silence`);
    expect(error.message).toContain('invalid regular expression');

    const past = await rejection(silencer.create(silenceFor({ alertname: 'X' }, new Date(Date.now() - HOUR))));
    expect(past.message).toMatch(/rejected the silence: .*end time/);
  });

  it('reports a silence Alertmanager does not have', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(silencer.get(missing)).rejects.toBeInstanceOf(SilenceNotFoundError);
    await expect(silencer.expire(missing)).rejects.toBeInstanceOf(SilenceNotFoundError);
    const notAnId = await rejection(silencer.expire('../../status'));
    expect(notAnId.message).toContain('is not an Alertmanager silence id');
  });

  it('names the URL when Alertmanager cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const unreachable = createAlertmanagerClient(AlertmanagerConfig.parse({ url }));
    const error = await rejection(unreachable.create(silenceFor({ alertname: 'X' })));
    expect(error.message).toBe(`Alertmanager at ${url} refused the connection while creating a silence.`);
    expect(error.options.hint).toContain('alertmanager.url');
  });
});

describe('Alertmanager API v2 client against a stand-in server', () => {
  let server: Server;
  let url: string;
  let seen: IncomingHttpHeaders[] = [];
  let answer: (res: import('node:http').ServerResponse) => void = (res) => res.end();

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/am`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the configured headers and hints at them on 401, without echoing the token', async () => {
    seen = [];
    answer = (res) => res.writeHead(401, { 'content-type': 'text/plain' }).end('bad token s3cret-token-value');
    const client = createAlertmanagerClient(AlertmanagerConfig.parse({ url, headers: { Authorization: 'Bearer s3cret-token-value' } }));
    const error = await rejection(client.firingAlerts(matchersFromLabels({ alertname: 'X' })));
    expect(seen[0]?.authorization).toBe('Bearer s3cret-token-value');
    expect(error.message).toBe(`Alertmanager at ${url} answered HTTP 401 (not authenticated) while listing alerts.`);
    expect(error.options.hint).toContain('alertmanager.headers');
    expect(JSON.stringify([error.message, error.options.hint])).not.toContain('s3cret');
  });

  it('keeps the route prefix and says when the answer is not Alertmanager JSON', async () => {
    let path = '';
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      path = req.url ?? '';
      answer(res);
    });
    const client = createAlertmanagerClient(AlertmanagerConfig.parse({ url: `${url}/` }));
    const error = await rejection(client.firingAlerts(matchersFromLabels({ alertname: 'X', service: 'y' })));
    expect(path).toBe(
      '/am/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&filter=alertname%3D%22X%22&filter=service%3D%22y%22',
    );
    expect(error.message).toContain('something other than Alertmanager API v2 JSON');
  });

  it('gives up after the configured timeout, and tells a cancel apart', async () => {
    answer = () => undefined; // never answers
    const client = createAlertmanagerClient(AlertmanagerConfig.parse({ url, timeout: '200ms' }));
    const slow = await rejection(client.get('00000000-0000-4000-8000-000000000000'));
    expect(slow.message).toContain(`Alertmanager at ${url} timed out after 200ms while reading silence`);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const cancelled = await rejection(client.expire('00000000-0000-4000-8000-000000000000', { signal: controller.signal }));
    expect(cancelled.message).toContain('was cancelled while expiring silence');
  });
});
