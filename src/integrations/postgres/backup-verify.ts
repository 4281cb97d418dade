import { open } from 'node:fs/promises';
import { IntegrationError } from '../integration-error.js';
import { runCommand } from '../command/run-command.js';
import { lastLines } from '../backup/scrub.js';

const COMPLETION_LINE = '-- PostgreSQL database dump complete';
const TAIL_BYTES = 4_096;

/**
 * Reads a fresh dump back before it is published. Custom archives must list with
 * `pg_restore --list`; plain scripts must end with pg_dump's completion comment, which
 * pg_dump writes last (followed only by "--", blank lines and, since the CVE-2025-8714 fix,
 * a `\unrestrict <key>` line).
 */
export async function verifyDump(
  file: string,
  format: 'custom' | 'plain',
  options: { pgRestore: string; timeoutMs: number; signal: AbortSignal },
): Promise<string> {
  if (format === 'custom') {
    const result = await runCommand({ argv: [options.pgRestore, '--list', file], timeoutMs: options.timeoutMs }, { signal: options.signal });
    if (result.exitCode !== 0) {
      throw new IntegrationError(`pg_restore --list could not read the new dump (exit ${result.exitCode}): ${lastLines(result.output)}`);
    }
    return 'pg_restore --list read it';
  }
  const tail = await readTail(file, TAIL_BYTES);
  if (tail.length === 0) throw new IntegrationError('pg_dump wrote an empty file');
  if (!endsWithCompletionLine(tail)) {
    throw new IntegrationError(`the dump does not end with "${COMPLETION_LINE}"; it is incomplete`);
  }
  return 'ends with the pg_dump completion line';
}

/** True when, ignoring what pg_dump writes after it, the last line is the completion comment. */
export function endsWithCompletionLine(tail: string): boolean {
  const lines = tail.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0) {
    const last = lines[lines.length - 1]!;
    if (last === '' || last === '--' || /^\\unrestrict [A-Za-z0-9]+$/.test(last)) lines.pop();
    else break;
  }
  return lines[lines.length - 1] === COMPLETION_LINE;
}

async function readTail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}
