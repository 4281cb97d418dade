import { formatDuration } from '../../config/duration.js';
import { describeError } from '../health/describe-error.js';
import { targetOfUrl } from '../health/probes/target.js';
import type { CircuitBreakerProbe } from './circuit-breaker-schema.js';

/** Whether the protected route answers after a reset, as the runbook's `curl .../proxy/ok` checks. */
export interface CircuitProbeResult {
  ok: boolean;
  status?: number;
  latencyMs: number;
  reason?: string;
}

/** GETs the probe URL once; never throws, because the reset itself has already happened. */
export async function runCircuitProbe(probe: CircuitBreakerProbe, signal: AbortSignal | undefined, now: () => number): Promise<CircuitProbeResult> {
  const started = now();
  const timeout = AbortSignal.timeout(probe.timeout);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    // A redirect is reported, not followed: the configured URL is the one that must answer.
    const response = await fetch(probe.url, { signal: combined, redirect: 'manual' });
    await response.body?.cancel().catch(() => {});
    const latencyMs = Math.max(0, now() - started);
    if (response.status === probe.expectStatus) return { ok: true, status: response.status, latencyMs };
    return { ok: false, status: response.status, latencyMs, reason: `HTTP ${response.status} (expected ${probe.expectStatus})` };
  } catch (error) {
    const latencyMs = Math.max(0, now() - started);
    if (signal?.aborted) return { ok: false, latencyMs, reason: 'cancelled before it finished' };
    if (timeout.aborted) return { ok: false, latencyMs, reason: `timed out after ${formatDuration(probe.timeout)}` };
    return { ok: false, latencyMs, reason: describeError(error, targetOfUrl(probe.url)) };
  }
}
