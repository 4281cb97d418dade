import { formatDuration } from '../../config/duration.js';

/** The caller's signal combined with a restart's own timeout, remembering which one fired. */
export interface Deadline {
  signal: AbortSignal;
  /** "timed out after 60s" or "was cancelled" once the signal fired; undefined before. */
  why(): string | undefined;
  /** Releases the timer; call when the restart is over. */
  clear(): void;
}

export function startDeadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let why: string | undefined;
  const stop = (text: string) => {
    if (why !== undefined) return;
    why = text;
    controller.abort(new Error(text));
  };
  const onParentAbort = () => stop('was cancelled');
  const timer = setTimeout(() => stop(`timed out after ${formatDuration(timeoutMs)}`), timeoutMs);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    why: () => why,
    clear: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Runs `work` under the deadline and always releases it. */
export async function withDeadline<T>(parent: AbortSignal, timeoutMs: number, work: (deadline: Deadline) => Promise<T>): Promise<T> {
  const deadline = startDeadline(parent, timeoutMs);
  try {
    return await work(deadline);
  } finally {
    deadline.clear();
  }
}
