import { Counter, Histogram, type Registry } from 'prom-client';
import type { Mode } from './seed-systems.js';

const REQUESTS_PER_TICK = 5;
const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5, 10, 30, 60];

/**
 * Requests a stand-in pretends to serve each second, counted the way its seed's metrics are:
 * none fail while healthy, two in five fail with a 5xx while unhealthy, and every one takes
 * `slowSeconds` while slow. `withStatus` adds the `status` label the seeds' error-rate rules read.
 */
export function createTraffic(registry: Registry, options: { counter: string; histogram: string; slowSeconds: number; withStatus: boolean }) {
  const requests = new Counter({ name: options.counter, help: 'Requests served, by status.', labelNames: options.withStatus ? ['status'] : [], registers: [registry] });
  const duration = new Histogram({ name: options.histogram, help: 'Request duration in seconds.', buckets: BUCKETS, registers: [registry] });
  return {
    /** `extraSeconds`: time spent waiting for something else (the gateway's upstream) on top of the stand-in's own. */
    tick(mode: Mode, extraSeconds = 0): { served: number; failed: number } {
      let failed = 0;
      for (let i = 0; i < REQUESTS_PER_TICK; i++) {
        const fails = mode === 'unhealthy' && i % 5 < 2;
        if (fails) failed++;
        if (options.withStatus) requests.inc({ status: fails ? '503' : '200' });
        else requests.inc();
        duration.observe((mode === 'slow' ? options.slowSeconds : 0.04 + Math.random() * 0.2) + extraSeconds);
      }
      return { served: REQUESTS_PER_TICK, failed };
    },
  };
}
