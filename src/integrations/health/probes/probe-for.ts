import type { HealthCheck, HealthCheckKind } from '../schema.js';
import type { Probe } from '../types.js';
import { httpProbe } from './http-probe.js';
import { postgresProbe } from './postgres-probe.js';
import { redisProbe } from './redis-probe.js';
import { targetOfUrl } from './target.js';
import { tcpProbe } from './tcp-probe.js';
import { tlsProbe } from './tls-probe.js';

type ProbeTable = { [Kind in HealthCheckKind]: Probe<Extract<HealthCheck, { kind: Kind }>> };

/** A mapped type, so adding a kind to the schema fails to compile until it has a probe. */
const PROBES: ProbeTable = {
  http: httpProbe,
  tcp: tcpProbe,
  redis: redisProbe,
  postgres: postgresProbe,
  tls: tlsProbe,
};

/** The probe for a check's kind; undefined only for input that bypassed the schema. */
export function probeFor(check: HealthCheck): Probe<HealthCheck> | undefined {
  return Object.hasOwn(PROBES, check.kind) ? (PROBES[check.kind] as Probe<HealthCheck>) : undefined;
}

/** "host:port" named in connection errors. */
export function targetOf(check: HealthCheck): string {
  return 'url' in check ? targetOfUrl(check.url) : `${check.host}:${check.port}`;
}
