import type { Condition } from './conditions.js';
import type { Mode } from './seed-systems.js';

/** What pressing a key does to the picked system. */
export type SwitchEffect =
  | { kind: 'mode'; mode: Mode }
  | { kind: 'crash' }
  | { kind: 'condition'; condition: Condition }
  | { kind: 'open-breaker' }
  | { kind: 'fail-next-backup' };

export interface DemoSwitch {
  key: string;
  /** What it does, for the help. */
  does: string;
  /** What it does to a system where that differs, e.g. the gateway's failing program is its upstream. */
  doesFor?: Readonly<Record<string, string>>;
  effect: SwitchEffect;
  /** The alerts (of examples/rules/<service>.yml) it makes fire, per service; the rule-coverage test holds the demo to this. */
  alerts: Readonly<Record<string, readonly string[]>>;
  /** What else to do for the alert to fire, e.g. run a backup. */
  then?: Readonly<Record<string, string>>;
}

/**
 * Every key of the demo with the alerts it causes, system by system. The help is printed from
 * this table, and test/e2e/demo-rule-coverage.test.ts presses each key against real
 * Prometheus and checks that exactly these alerts fire, and that every alert of
 * examples/rules/ is caused by some key (or by BACKUP_AGE below).
 */
export const DEMO_SWITCHES: readonly DemoSwitch[] = [
  {
    key: 's',
    does: 'slow: every request takes seconds',
    effect: { kind: 'mode', mode: 'slow' },
    alerts: { 'company-extraction': ['SlowResponseTime'], 'brownie-metadata': ['HighResponseTime'], selextract: ['HighResponseTime'], 'dried-fruits': ['HighResponseTime'], 'api-gateway': ['HighResponseLatency'] },
  },
  {
    key: 'u',
    does: 'unhealthy: 2 in 5 requests fail',
    doesFor: { 'api-gateway': 'unhealthy upstream: the proxy\'s calls fail, its breaker opens' },
    effect: { kind: 'mode', mode: 'unhealthy' },
    alerts: {
      'company-extraction': ['HighErrorRate', 'ExternalAPIFailure'],
      'brownie-metadata': ['HighErrorRate', 'AuthenticationFailuresHigh'],
      selextract: ['HighErrorRate'],
      'dried-fruits': ['HighErrorRate'],
      'api-gateway': ['UpstreamHighErrorRate', 'CircuitBreakerOpen', 'CircuitBreakerFrequentlyOpen'],
    },
  },
  { key: 'o', does: "open the gateway's circuit breaker at once", effect: { kind: 'open-breaker' }, alerts: { 'api-gateway': ['CircuitBreakerOpen', 'CircuitBreakerFrequentlyOpen'] } },
  { key: 'c', does: 'host CPU busy (simulated, 97%)', effect: { kind: 'condition', condition: 'cpu-busy' }, alerts: { 'brownie-metadata': ['HighCPUUsage'], selextract: ['ResourceUsageHigh'], 'dried-fruits': ['HighCPUUsage'] } },
  {
    key: 'm',
    does: 'host memory full (simulated, 97%)',
    effect: { kind: 'condition', condition: 'memory-full' },
    alerts: { 'company-extraction': ['HighMemoryUsage'], 'brownie-metadata': ['HighMemoryUsage'], selextract: ['MemoryUsageHigh', 'ResourceUsageHigh'], 'dried-fruits': ['HighMemoryUsage'] },
  },
  { key: 'd', does: 'disk full (simulated, 95%)', effect: { kind: 'condition', condition: 'disk-full' }, alerts: { selextract: ['DiskSpaceHigh'], 'dried-fruits': ['DiskSpaceHigh'] } },
  { key: 'r', does: 'Redis down (simulated, health endpoints agree)', effect: { kind: 'condition', condition: 'redis-down' }, alerts: { 'company-extraction': ['RedisDown'] } },
  { key: 'f', does: 'Redis memory at 90% of maxmemory (simulated)', effect: { kind: 'condition', condition: 'redis-memory-full' }, alerts: { 'api-gateway': ['RedisHighMemoryUsage'] } },
  { key: 'p', does: 'PostgreSQL down (simulated, health endpoints agree)', effect: { kind: 'condition', condition: 'postgres-down' }, alerts: { 'dried-fruits': ['DatabaseConnectionFailed'] } },
  { key: 'n', does: 'database connections at 95% of the maximum (simulated)', effect: { kind: 'condition', condition: 'connections-exhausted' }, alerts: { 'brownie-metadata': ['ConnectionPoolExhaustion'], selextract: ['DatabaseConnectionsHigh'] } },
  { key: 'w', does: 'worker backlog: 250 tasks queued, one in three fails', effect: { kind: 'condition', condition: 'worker-backlog' }, alerts: { selextract: ['WorkerQueueHigh', 'TaskFailureRateHigh'] } },
  { key: 't', does: 'TLS certificate expires in 3 days', effect: { kind: 'condition', condition: 'certificate-expiring' }, alerts: { selextract: ['SSLCertificateExpiring'] } },
  { key: 'l', does: 'clients hit the rate limiter (429s)', effect: { kind: 'condition', condition: 'rate-limited' }, alerts: { 'api-gateway': ['HighRateLimitRejections'] } },
  {
    key: 'b',
    does: 'the next pg_dump fails (the simulator drops its connection)',
    effect: { kind: 'fail-next-backup' },
    alerts: { 'brownie-metadata': ['BackupFailed'], selextract: ['BackupFailed'], 'dried-fruits': ['BackupFailed'] },
    then: { 'brownie-metadata': '/ops backup brownie-metadata', selextract: '/ops backup selextract', 'dried-fruits': '/ops backup dried-fruits database' },
  },
  { key: 'k', does: 'crash: the program exits and stays down until restarted', effect: { kind: 'crash' }, alerts: { 'company-extraction': ['ServiceDown'], 'brownie-metadata': ['APIDown'], selextract: ['ServiceDown'], 'dried-fruits': ['ServiceDown'], 'api-gateway': ['ServiceDown'] } },
];

/** BackupTooOld needs no key: a successful backup that then ages past the demo's threshold. */
export const BACKUP_AGE: Readonly<Record<string, { command: string; alerts: readonly string[] }>> = {
  selextract: { command: '/ops backup selextract', alerts: ['BackupTooOld'] },
  'dried-fruits': { command: '/ops backup dried-fruits database', alerts: ['BackupTooOld'] },
  'api-gateway': { command: '/ops backup api-gateway', alerts: ['BackupTooOld'] },
};

/**
 * Alerts no switch can fire without touching this machine's real Redis: a Redis BGSAVE fails
 * only when Redis itself cannot write. Said in the help, so nobody waits for them.
 */
export const NOT_DRIVABLE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'company-extraction': { BackupFailed: 'needs a Redis BGSAVE that fails, i.e. a real Redis that cannot write its dump' },
  'api-gateway': { BackupFailed: 'needs a Redis BGSAVE that fails, i.e. a real Redis that cannot write its dump' },
};

/** The help for one system: every key beside the alerts it causes there. */
export function helpFor(service: string, backupAge: string): string[] {
  const lines = DEMO_SWITCHES.map((s) => {
    const alerts = s.alerts[service] ?? [];
    const then = s.then?.[service] ? `, then ${s.then[service]}` : '';
    return `  ${s.key}  ${(s.doesFor?.[service] ?? s.does).padEnd(62)} ${alerts.length ? `→ ${alerts.join(', ')}${then}` : '(no alert here)'}`;
  });
  const aged = BACKUP_AGE[service];
  if (aged) lines.push(`     ${aged.command}, then wait ${backupAge}`.padEnd(67) + ` → ${aged.alerts.join(', ')}`);
  for (const [alert, why] of Object.entries(NOT_DRIVABLE[service] ?? {})) lines.push(`     ${alert} cannot fire in the demo: it ${why}`);
  return lines;
}
