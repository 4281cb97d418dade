/** Runs `release` once when the signal aborts (or at once if it already has); returns an unsubscribe. */
export function onAbort(signal: AbortSignal, release: () => void): () => void {
  if (signal.aborted) {
    release();
    return () => {};
  }
  signal.addEventListener('abort', release, { once: true });
  return () => signal.removeEventListener('abort', release);
}
