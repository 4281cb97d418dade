import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAlertmanager, startWebhookRecorder, type Daemon, type WebhookRecorder } from '../helpers/alertmanager.js';
import { startExporter, type Exporter } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { requires } from '../helpers/requires.js';

const TOKEN = 'harness-webhook-token';

const RULES = `groups:
  - name: switchboard-harness
    rules:
      - alert: ServiceDown
        expr: up_test == 0
        for: 0s
        labels:
          severity: critical
          service: api-gateway
        annotations:
          summary: api-gateway is down
`;

let dir: string;
let exporter: Exporter;
let recorder: WebhookRecorder;
let alertmanager: Daemon;
let prometheus: Daemon;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-rules-'));
  await writeFile(join(dir, 'rules.yml'), RULES);
  exporter = await startExporter({ up_test: 0 });
  recorder = await startWebhookRecorder();
  alertmanager = await startAlertmanager({ webhookUrl: recorder.url, bearerToken: TOKEN });
  prometheus = await startPrometheus({
    rulesFiles: [join(dir, 'rules.yml')],
    scrapeTargets: [exporter.target],
    alertmanagerUrl: alertmanager.url,
  });
});

afterAll(async () => {
  await prometheus?.stop();
  await alertmanager?.stop();
  await recorder?.stop();
  await exporter?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

requires('prometheus', 'alertmanager')('exporter → Prometheus → Alertmanager → webhook, all real', () => {
  it('notifies firing with the bearer token, then resolved when the gauge recovers', async () => {
    const firing = await recorder.waitFor((n) => n.body.status === 'firing', 15_000);
    expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(firing.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'switchboard',
      groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
      commonLabels: { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', job: 'test', instance: exporter.target },
    });
    expect(firing.body.groupKey).toContain('alertname="ServiceDown"');
    expect(firing.body.groupKey).toContain('service="api-gateway"');
    expect(firing.body.alerts).toHaveLength(1);
    expect(firing.body.alerts[0]).toMatchObject({
      status: 'firing',
      labels: { alertname: 'ServiceDown', severity: 'critical', service: 'api-gateway' },
      annotations: { summary: 'api-gateway is down' },
      fingerprint: expect.stringMatching(/^[0-9a-f]+$/),
    });

    exporter.set('up_test', 1);
    const resolved = await recorder.waitFor((n) => n.body.status === 'resolved', 15_000);
    expect(resolved.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(resolved.body.groupKey).toBe(firing.body.groupKey);
    expect(resolved.body.alerts[0]).toMatchObject({ status: 'resolved', fingerprint: firing.body.alerts[0]?.fingerprint });
  });
});
