import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A debug-level pino logger whose JSON lines are kept in `lines`, for tests that check what was logged. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}
