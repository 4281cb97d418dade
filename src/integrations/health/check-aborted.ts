/** Abort reasons the checker sets, so a probe's own AbortError is never mistaken for the cause. */
export class CheckTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${formatTimeout(timeoutMs)}`);
  }
}

export class CheckCancelled extends Error {
  constructor() {
    super('cancelled before it finished');
  }
}

/** "5s" for whole seconds, as written in the catalog; "1.5s"/"500ms" otherwise. */
function formatTimeout(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  return `${Number((ms / 1_000).toFixed(1))}s`;
}
