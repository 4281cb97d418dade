import type { BackupProgress } from './types.js';

export const PROGRESS_EVERY_MS = 2_000;

/**
 * Reports the current phase at once and then every `everyMs`, so a long dump still shows signs
 * of life in Slack. A throwing listener must not break the backup, so its errors are dropped.
 */
export function startProgress(onProgress: ((p: BackupProgress) => void) | undefined, everyMs: number, startedAt = Date.now()) {
  let phase: BackupProgress['phase'] | undefined;
  const emit = () => {
    if (!phase || !onProgress) return;
    try {
      onProgress({ phase, elapsedMs: Date.now() - startedAt });
    } catch {
      // Progress is advisory; the result is what counts.
    }
  };
  const timer = setInterval(emit, everyMs);
  timer.unref();
  return {
    phase(next: BackupProgress['phase']) {
      phase = next;
      emit();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
