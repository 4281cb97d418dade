import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  runs: Counter<'action' | 'status'>;
  slackWrites: Counter<'kind' | 'result'>;
}

/** One registry per Switchboard instance, so tests that start several do not share counters. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'switchboard_action_runs_total',
      help: 'Action runs by action id and final status.',
      labelNames: ['action', 'status'],
      registers: [registry],
    }),
    slackWrites: new Counter({
      name: 'switchboard_slack_writes_total',
      help: 'Slack writes from the outbox by kind and result (sent, failed, rate_limited).',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
  };
}
