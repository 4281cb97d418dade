import { CheckCancelled, CheckTimedOut } from './check-aborted.js';
import { describeError } from './describe-error.js';
import { probeFor, targetOf } from './probes/probe-for.js';
import { redact, secretsOf } from './redact.js';
import type { HealthCheck } from './schema.js';
import type { CheckResult, ProbeOutcome } from './types.js';

/**
 * Client libraries get a slightly later timeout than the checker's deadline, so the deadline
 * always decides and the reason reads "timed out after 5s" rather than a driver's wording;
 * their own timers remain a backstop that frees sockets.
 */
const CLIENT_TIMEOUT_GRACE_MS = 250;

/**
 * Runs one check under its own deadline. The result is decided by a race between the probe
 * and the abort signal, so a probe whose client ignores the signal still cannot delay the
 * result past the timeout. Never rejects.
 */
export async function runCheck(check: HealthCheck, external: AbortSignal | undefined, now: () => number): Promise<CheckResult> {
  const started = now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new CheckTimedOut(check.timeout)), check.timeout);
  const cancel = () => controller.abort(new CheckCancelled());
  if (external?.aborted) cancel();
  external?.addEventListener('abort', cancel, { once: true });

  let outcome: ProbeOutcome;
  try {
    outcome = await Promise.race([startProbe(check, controller.signal, now), rejectOnAbort(controller.signal)]);
  } catch (error) {
    // After an abort the probe's own error ("This operation was aborted") says less than why we aborted.
    const cause = controller.signal.aborted ? controller.signal.reason : error;
    const reason = cause instanceof CheckTimedOut || cause instanceof CheckCancelled ? cause.message : describeError(cause, targetOf(check));
    outcome = { status: 'fail', reason };
  } finally {
    clearTimeout(timer);
    external?.removeEventListener('abort', cancel);
  }
  return toResult(check, outcome, Math.max(0, now() - started));
}

function startProbe(check: HealthCheck, signal: AbortSignal, now: () => number): Promise<ProbeOutcome> {
  const probe = probeFor(check);
  if (!probe) return Promise.resolve({ status: 'fail', reason: `unsupported check kind "${String(check.kind)}"` });
  // Wrapped so a probe that throws synchronously is handled like one that rejects.
  const running = Promise.resolve().then(() => probe(check, { signal, timeoutMs: check.timeout + CLIENT_TIMEOUT_GRACE_MS, now }));
  // If the abort wins the race, the probe settles later with nobody listening; keep that from
  // becoming an unhandled rejection.
  running.catch(() => {});
  return running;
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function toResult(check: HealthCheck, outcome: ProbeOutcome, latencyMs: number): CheckResult {
  const secrets = secretsOf(check);
  const result: CheckResult = { name: check.name, kind: check.kind, status: outcome.status, latencyMs };
  if (outcome.detail) result.detail = redact(outcome.detail, secrets);
  if (outcome.reason) result.reason = redact(outcome.reason, secrets);
  return result;
}
