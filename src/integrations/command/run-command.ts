import { spawn } from 'node:child_process';
import { IntegrationError } from '../integration-error.js';

export interface CommandSpec {
  /** Program and arguments, from the catalog only; run without a shell. */
  argv: readonly string[];
  cwd?: string;
  /** Added to a minimal environment (PATH, HOME, LANG); secrets go here, never into argv. */
  env?: Record<string, string>;
  timeoutMs: number;
}

export interface CommandResult {
  exitCode: number;
  /** The last part of stdout and stderr together, for the reply and the audit record. */
  output: string;
  /** The last part of stdout alone: its last line is a script's own summary, never raced by stderr. */
  stdout: string;
  durationMs: number;
}

const OUTPUT_KEEP = 4_000;

/** Runs a catalog command with execFile semantics: no shell, bounded time, bounded output, killed on abort. */
export function runCommand(spec: CommandSpec, options: { signal?: AbortSignal } = {}): Promise<CommandResult> {
  const [program, ...args] = spec.argv;
  if (!program) return Promise.reject(new IntegrationError('The command is empty; give at least the program in `argv`.'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', LANG: 'C.UTF-8', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      detached: true,
    });
    let output = '';
    let stdout = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      stdout = (stdout + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
    });
    child.stderr.on('data', keep);
    let stoppedFor: string | undefined;
    // Kill the whole process group: a script's children must not outlive a timed-out run.
    const stop = (why: string) => {
      stoppedFor ??= why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 2_000).unref();
    };
    const timer = setTimeout(() => stop(`timed out after ${Math.round(spec.timeoutMs / 1000)}s`), spec.timeoutMs);
    const onAbort = () => stop('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        new IntegrationError(
          error.code === 'ENOENT' ? `${program} was not found; install it or give its full path in the catalog` : `${program} could not start (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const durationMs = Date.now() - started;
      if (stoppedFor) return reject(new IntegrationError(`${program} ${stoppedFor}`));
      resolve({ exitCode: code ?? (signal ? 128 : 1), output: output.trim(), stdout: stdout.trim(), durationMs });
    });
  });
}
