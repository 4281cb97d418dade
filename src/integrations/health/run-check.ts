import { CheckCancelled, CheckTimedOut } from './check-aborted.js';
import { describeError } from './describe-error.js';
import { onAbort } from './probes/on-abort.js';
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
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new CheckTimedOut(check.timeout)), check.timeout);
  // The caller's signal is shared by every check of a run (`/ops health` of all services runs
  // dozens). AbortSignal.any follows it without adding a listener to it, where one listener per
  // check would pass Node's limit of 10 and print MaxListenersExceededWarning.
  const signal = external ? AbortSignal.any([deadline.signal, external]) : deadline.signal;

  const aborted = rejectOnAbort(signal);
  let outcome: ProbeOutcome;
  try {
    outcome = await Promise.race([startProbe(check, signal, now), aborted.promise]);
  } catch (error) {
    // After an abort the probe's own error ("This operation was aborted") says less than why we aborted.
    const cause = deadline.signal.aborted ? deadline.signal.reason : external?.aborted ? new CheckCancelled() : error;
    const reason = cause instanceof CheckTimedOut || cause instanceof CheckCancelled ? cause.message : describeError(cause, targetOf(check));
    outcome = { status: 'fail', reason };
  } finally {
    clearTimeout(timer);
    // A composite signal with a listener is kept alive until it aborts; a check that ended must let go.
    aborted.stop();
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

/** Rejects when the signal aborts; `stop` removes its listener once the check is over. */
function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; stop: () => void } {
  let stop = () => {};
  const promise = new Promise<never>((_, reject) => {
    stop = onAbort(signal, () => reject(signal.reason));
  });
  return { promise, stop };
}

function toResult(check: HealthCheck, outcome: ProbeOutcome, latencyMs: number): CheckResult {
  const secrets = secretsOf(check);
  const result: CheckResult = { name: check.name, kind: check.kind, status: outcome.status, latencyMs };
  if (outcome.detail) result.detail = redact(outcome.detail, secrets);
  if (outcome.reason) result.reason = redact(outcome.reason, secrets);
  return result;
}
