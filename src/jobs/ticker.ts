import type { Logger } from 'pino';

export interface Ticker {
  start(): void;
  /** Stops scheduling and waits for a tick in progress. */
  stop(): Promise<void>;
  /** Runs one tick now (tests, and callers that know work just became due). */
  tickNow(): Promise<void>;
}

/**
 * Calls `tick` every `intervalMs`, never two at once: a slow tick delays the next one instead
 * of overlapping it. A failing tick is logged and the loop goes on.
 */
export function createTicker(options: { name: string; intervalMs: number; tick: () => Promise<void>; logger: Logger }): Ticker {
  const { name, intervalMs, tick, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const runOnce = (): Promise<void> => {
    running ??= tick()
      .catch((error: unknown) => logger.error({ err: error, ticker: name }, `${name} failed; it will run again in ${intervalMs} ms`))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), intervalMs);
    timer.unref();
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    tickNow: runOnce,
  };
}
