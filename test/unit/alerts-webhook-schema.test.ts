import { describe, expect, it } from 'vitest';
import { parseNotification } from '../../src/alerts/webhook-schema.js';

/** Written from the webhook_config documentation and `notify/webhook` `Message` (version 4). */
const handWritten = {
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="CircuitBreakerOpen", service="api-gateway"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'switchboard',
  groupLabels: { alertname: 'CircuitBreakerOpen', service: 'api-gateway' },
  commonLabels: { alertname: 'CircuitBreakerOpen', service: 'api-gateway', severity: 'critical', job: 'api-gateway' },
  commonAnnotations: { summary: 'Circuit breaker open', runbook_url: 'https://runbooks.example.com/circuit-breaker' },
  externalURL: 'http://alertmanager.example.com:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'CircuitBreakerOpen', service: 'api-gateway', severity: 'critical', job: 'api-gateway', breaker: 'payments' },
      annotations: { summary: 'Circuit breaker open', description: 'Breaker payments opened after 5 failures' },
      startsAt: '2025-03-04T05:06:07.123456789+01:00',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=circuit_breaker_open+%3D%3D+1&g0.tab=1',
      fingerprint: '1a30ba71cca2921f',
    },
    {
      status: 'resolved',
      labels: { alertname: 'CircuitBreakerOpen', service: 'api-gateway', severity: 'critical', job: 'api-gateway', breaker: 'search' },
      annotations: { summary: 'Circuit breaker open' },
      startsAt: '2025-03-04T04:00:00Z',
      endsAt: '2025-03-04T04:30:00.5Z',
      generatorURL: '',
      fingerprint: '9c1d0e8a77b2f3c4',
    },
  ],
};

/**
 * Captured from prometheus-alertmanager 0.25.0 (Debian) with `max_alerts: 2`, after one of three
 * alerts resolved; only the external URL's host name was changed.
 */
const captured = {
  receiver: 'sb',
  status: 'firing',
  alerts: [
    {
      status: 'resolved',
      labels: { alertname: 'ServiceDown', instance: 'gw-1:5000', job: 'api-gateway', service: 'api-gateway', severity: 'critical' },
      annotations: {
        description: 'api-gateway has been down for more than 1 minute',
        runbook_url: 'https://runbooks.example.com/service-down',
        summary: 'Service gw-1:5000 is down',
      },
      startsAt: '2026-11-22T05:36:07.565925539Z',
      endsAt: '2026-11-22T05:36:13Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
      fingerprint: '8ed6888269635c2b',
    },
    {
      status: 'firing',
      labels: { alertname: 'ServiceDown', instance: 'gw-2:5000', job: 'api-gateway', service: 'api-gateway', severity: 'critical' },
      annotations: {
        description: 'api-gateway has been down for more than 1 minute',
        runbook_url: 'https://runbooks.example.com/service-down',
        summary: 'Service gw-2:5000 is down',
      },
      startsAt: '2026-11-22T05:36:07.565925539Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
      fingerprint: 'c8ef70369c82f622',
    },
  ],
  groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
  commonLabels: { alertname: 'ServiceDown', job: 'api-gateway', service: 'api-gateway', severity: 'critical' },
  commonAnnotations: { description: 'api-gateway has been down for more than 1 minute', runbook_url: 'https://runbooks.example.com/service-down' },
  externalURL: 'http://alertmanager.example.com:19093',
  version: '4',
  groupKey: '{}:{alertname="ServiceDown", service="api-gateway"}',
  truncatedAlerts: 1,
};

const clone = <T>(value: T): T => structuredClone(value);

function problemsOf(json: unknown): string[] {
  const parsed = parseNotification(json);
  if (parsed.ok) throw new Error('expected problems');
  return parsed.problems;
}

describe('parseNotification', () => {
  it('parses a version 4 payload written from the docs', () => {
    const parsed = parseNotification(handWritten);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const n = parsed.notification;
    expect(n.groupKey).toBe(handWritten.groupKey);
    expect(n.alerts).toHaveLength(2);
    const [firing, resolved] = n.alerts;
    expect(firing!.startsAt).toEqual(new Date('2025-03-04T04:06:07.123Z'));
    expect(firing!.endsAt).toBeUndefined();
    expect(firing!.generatorURL).toBe(handWritten.alerts[0]!.generatorURL);
    expect(resolved!.endsAt).toEqual(new Date('2025-03-04T04:30:00.500Z'));
    expect(resolved!.generatorURL).toBeUndefined();
  });

  it('parses what a real Alertmanager sent, truncated alerts included', () => {
    const parsed = parseNotification(captured);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.notification.truncatedAlerts).toBe(1);
    expect(parsed.notification.alerts.map((a) => [a.status, a.fingerprint, a.endsAt?.toISOString()])).toEqual([
      ['resolved', '8ed6888269635c2b', '2026-11-22T05:36:13.000Z'],
      ['firing', 'c8ef70369c82f622', undefined],
    ]);
  });

  it('ignores fields a newer Alertmanager adds, and defaults truncatedAlerts', () => {
    const json: Record<string, unknown> = clone(handWritten);
    delete json.truncatedAlerts;
    json.orgId = 1;
    (json.alerts as Record<string, unknown>[])[0]!.silenceURL = 'http://x';
    const parsed = parseNotification(json);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.notification.truncatedAlerts).toBe(0);
    expect(parsed.notification).not.toHaveProperty('orgId');
    expect(parsed.notification.alerts[0]).not.toHaveProperty('silenceURL');
  });

  it.each<[string, (json: any) => void, string[]]>([
    ['a missing fingerprint', (j) => delete j.alerts[1].fingerprint, ['alerts[1].fingerprint: Required']],
    ['another version', (j) => (j.version = '3'), ['version: must be "4" (Alertmanager webhook payload version 4)']],
    ['an unknown status', (j) => (j.alerts[0].status = 'pending'), ['alerts[0].status: Invalid option: expected one of "firing"|"resolved"']],
    ['a label that is not a string', (j) => (j.alerts[0].labels.port = 5000), ['alerts[0].labels.port: Invalid input: expected string, received number']],
    ['a time that is not RFC 3339', (j) => (j.alerts[0].startsAt = 'yesterday'), ['alerts[0].startsAt: must be an RFC 3339 time such as 2024-05-01T10:00:00Z']],
    ['a negative truncatedAlerts', (j) => (j.truncatedAlerts = -1), ['truncatedAlerts: Too small: expected number to be >=0']],
    ['no alerts array', (j) => delete j.alerts, ['alerts: Required']],
    ['an empty groupKey', (j) => (j.groupKey = ''), ['groupKey: Too small: expected string to have >=1 characters']],
  ])('names the field of %s', (_name, mutate, expected) => {
    const json = clone(handWritten);
    mutate(json);
    expect(problemsOf(json)).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'hello'],
    ['an array', []],
  ])('refuses %s as a whole', (_name, json) => {
    expect(problemsOf(json)[0]).toMatch(/^\(body\): /);
  });

  it('accepts any number of alerts: the body limit is the only bound', () => {
    const alert = clone(handWritten.alerts[0]!);
    const json = { ...clone(handWritten), alerts: Array.from({ length: 20_001 }, (_, i) => ({ ...alert, fingerprint: `fp${i}` })) };
    const parsed = parseNotification(json);
    expect(parsed.ok && parsed.notification.alerts.length).toBe(20_001);
  });

  it('lists twenty problems, then how many more', () => {
    const json = { ...clone(handWritten), alerts: Array.from({ length: 30 }, () => ({})) };
    const problems = problemsOf(json);
    expect(problems).toHaveLength(21);
    expect(problems[0]).toBe('alerts[0].status: Required');
    expect(problems[20]).toBe('…and 100 more problems');
  });
});
