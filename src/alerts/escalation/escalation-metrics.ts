import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What escalation reports to /metrics; each is called once per happening, after it committed where possible. */
export interface EscalationMetrics {
  /** `level` is 1-based, as people read it. */
  escalated(level: number): void;
  /** A user or user group id that a step paged. */
  paged(target: string): void;
  acknowledged(seconds: number, severity: string): void;
  resolved(seconds: number, severity: string): void;
}

const MINUTE = 60;
const RESPONSE_BUCKETS = [30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, 60 * MINUTE, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600];

/** Registers the escalation metrics on `registry`; `openIncidents` is read at each scrape. */
export function createEscalationMetrics(registry: Registry, openIncidents: () => Promise<number>): EscalationMetrics {
  const timeToAcknowledge = new Histogram({
    name: 'switchboard_time_to_acknowledge_seconds',
    help: 'Time from an incident opening in Switchboard to its acknowledgement, by severity.',
    labelNames: ['severity'],
    buckets: RESPONSE_BUCKETS,
    registers: [registry],
  });
  const timeToResolve = new Histogram({
    name: 'switchboard_time_to_resolve_seconds',
    help: 'Time from an incident opening in Switchboard to its resolution (by a person or Alertmanager), by severity.',
    labelNames: ['severity'],
    buckets: [...RESPONSE_BUCKETS, 3 * 24 * 3600, 7 * 24 * 3600],
    registers: [registry],
  });
  const escalations = new Counter({
    name: 'switchboard_escalations_total',
    help: 'Escalation steps fired, by level (1-based).',
    labelNames: ['level'],
    registers: [registry],
  });
  const pages = new Counter({
    name: 'switchboard_pages_total',
    help: 'Pages sent by escalation, by target (Slack user or user group id; "nobody" when a level had nobody).',
    labelNames: ['target'],
    registers: [registry],
  });
  let lastOpen = 0;
  new Gauge({
    name: 'switchboard_open_incidents',
    help: 'Incidents firing now (acknowledged or not).',
    registers: [registry],
    async collect() {
      // A scrape while the store is unreachable shows the last known count rather than failing /metrics.
      lastOpen = await openIncidents().catch(() => lastOpen);
      this.set(lastOpen);
    },
  });
  return {
    escalated: (level) => escalations.inc({ level: String(level) }),
    paged: (target) => pages.inc({ target }),
    acknowledged: (seconds, severity) => timeToAcknowledge.observe({ severity }, Math.max(0, seconds)),
    resolved: (seconds, severity) => timeToResolve.observe({ severity }, Math.max(0, seconds)),
  };
}
