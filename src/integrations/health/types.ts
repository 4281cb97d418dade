import type { HealthCheck } from './schema.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The outcome of one health check, ready to render. */
export interface CheckResult {
  name: string;
  kind: string;
  status: CheckStatus;
  latencyMs: number;
  /** What was observed, e.g. "HTTP 200" or "12/100 connections". */
  detail?: string;
  /** Why the status is not ok, e.g. "connection refused (127.0.0.1:5999)". */
  reason?: string;
}

/** Port used by actions: runs a service's health checks and never throws. */
export interface HealthChecker {
  check(checks: readonly HealthCheck[], opts?: { signal?: AbortSignal }): Promise<CheckResult[]>;
}

/** What a probe hands back; the checker adds name, kind and latency. */
export interface ProbeOutcome {
  status: CheckStatus;
  detail?: string;
  reason?: string;
}

export interface ProbeContext {
  /** Aborted at the check's timeout or when the caller cancels; the probe must release its sockets. */
  signal: AbortSignal;
  /** Timeout for client libraries; a little past the signal's deadline, as a backstop. */
  timeoutMs: number;
  /** Wall clock in ms, injected so certificate expiry can be tested. */
  now: () => number;
}

/** A probe may throw on transport errors; the checker turns them into a readable `fail`. */
export type Probe<Check extends HealthCheck> = (check: Check, ctx: ProbeContext) => Promise<ProbeOutcome>;
