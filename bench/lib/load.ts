import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { CpuMeter, CpuUse } from './cpu-meter.js';
import type { Outgoing } from './notifications.js';
import { summarize, type LatencySummary } from './stats.js';

/** What one load run measured, warm-up excluded. */
export interface LoadResult {
  /** Requests answered (any status) or failed in the measured window. */
  requests: number;
  /** Answers other than 200, and requests that failed (timeout, reset), by cause. */
  errors: number;
  errorKinds: Record<string, number>;
  windowMs: number;
  /** Answered 200 per second over the measured window. */
  throughput: number;
  latency: LatencySummary;
  /** Where the CPU went during the window, when a meter was given (Linux). */
  cpu?: CpuUse;
}

export interface LoadTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

const newPool = (origin: string, connections: number) =>
  new Pool(origin, { connections, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000, keepAliveTimeout: 60_000 });

/** Starts `meter` when the measured window opens; `stop` ends it. */
function meterAt(meter: CpuMeter | undefined, at: number) {
  if (!meter) return { stop: async () => undefined };
  let started: Promise<void> | undefined;
  const timer = setTimeout(() => (started = meter.start()), Math.max(0, at - performance.now()));
  return {
    async stop(): Promise<CpuUse | undefined> {
      clearTimeout(timer);
      if (!started) return undefined;
      await started;
      return meter.stop();
    },
  };
}

/** Sends one notification; resolves with the error kind, or undefined for a 200. */
async function send(pool: Pool, target: LoadTarget, item: Outgoing, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body: item.body, ...(signal ? { signal } : {}) });
    await res.body.text();
    return res.statusCode === 200 ? undefined : `http_${res.statusCode}`;
  } catch (error) {
    if (signal?.aborted) return 'unanswered';
    return (error as { code?: string }).code ?? (error as Error).name;
  } finally {
    item.release();
  }
}

class Tally {
  readonly samples: number[] = [];
  readonly errorKinds: Record<string, number> = {};
  errors = 0;
  add(latencyMs: number, error: string | undefined): void {
    this.samples.push(latencyMs);
    if (error) {
      this.errors += 1;
      this.errorKinds[error] = (this.errorKinds[error] ?? 0) + 1;
    }
  }
  result(windowMs: number, cpu: CpuUse | undefined): LoadResult {
    const requests = this.samples.length;
    return {
      requests,
      errors: this.errors,
      errorKinds: this.errorKinds,
      windowMs,
      throughput: ((requests - this.errors) * 1000) / windowMs,
      latency: summarize(this.samples),
      ...(cpu ? { cpu } : {}),
    };
  }
}

/**
 * Closed loop: `connections` senders, each posting its next notification as soon as the previous
 * one is answered. Measures the most the target sustains; latencies are per request.
 */
export async function maxThroughput(target: LoadTarget, options: { connections: number; warmupMs: number; durationMs: number; next: () => Outgoing; meter?: CpuMeter }): Promise<LoadResult> {
  const pool = newPool(target.origin, options.connections);
  const tally = new Tally();
  const measureFrom = performance.now() + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const meter = meterAt(options.meter, measureFrom);
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const error = await send(pool, target, options.next());
      const finished = performance.now();
      if (finished >= measureFrom && finished <= end) tally.add(finished - started, error);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    await pool.close();
  }
  return tally.result(options.durationMs, await meter.stop());
}

/**
 * Open loop: notifications are due at a fixed rate whatever the target does, and each latency
 * counts from when it was due, not from when it left, so a stall shows as the latency of every
 * notification that waited behind it (no coordinated omission).
 */
export async function fixedRate(
  target: LoadTarget,
  options: { rate: number; warmupMs: number; durationMs: number; maxConnections: number; drainMs: number; next: () => Outgoing; meter?: CpuMeter },
): Promise<LoadResult & { lateSendP99: number; unanswered: number }> {
  const pool = newPool(target.origin, options.maxConnections);
  const tally = new Tally();
  const interval = 1000 / options.rate;
  const total = Math.round(((options.warmupMs + options.durationMs) / 1000) * options.rate);
  const start = performance.now() + 20;
  const measureFrom = start + options.warmupMs;
  const meter = meterAt(options.meter, measureFrom);
  const inFlight: Promise<void>[] = [];
  const lateness: number[] = [];
  const abort = new AbortController();
  // Every request listens on this one signal.
  setMaxListeners(0, abort.signal);
  let i = 0;

  const fire = (due: number) => {
    const now = performance.now();
    if (due >= measureFrom) lateness.push(now - due);
    inFlight.push(
      send(pool, target, options.next(), abort.signal).then((error) => {
        if (due >= measureFrom) tally.add(performance.now() - due, error);
      }),
    );
  };

  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) fire(start + i++ * interval);
      if (i >= total) return resolve();
      setTimeout(pump, Math.max(0, start + i * interval - performance.now()));
    };
    setTimeout(pump, Math.max(0, start - performance.now()));
  });
  // A target that fell behind could take minutes to work off its queue: what is still unanswered
  // `drainMs` after the last send is given up on and counted as an error, with its wait so far as
  // its latency (a lower bound).
  const cpu = meter.stop();
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([Promise.all(inFlight).then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), options.drainMs)))]);
  clearTimeout(timer);
  if (!drained) abort.abort();
  await Promise.all(inFlight);
  await pool.destroy();
  return { ...tally.result(options.durationMs, await cpu), lateSendP99: summarize(lateness).p99, unanswered: tally.errorKinds.unanswered ?? 0 };
}
