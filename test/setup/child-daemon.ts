import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/** A server process the test run started for itself; stop() ends it and waits for it. */
export interface ChildDaemon {
  child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** The last lines of its log, for error messages. */
  logTail(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Every daemon still running, killed if the run ends without stopping them (Ctrl-C, a crash). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `command` with its output in `logFile`, as `uid`/`gid` when given (PostgreSQL refuses to run as root). */
export function startChildDaemon(
  command: string,
  args: string[],
  options: { logFile: string; cwd?: string; uid?: number; gid?: number; env?: NodeJS.ProcessEnv; /** How long stop() waits before SIGKILL. */ graceMs?: number },
): ChildDaemon {
  const log = openSync(options.logFile, 'w');
  const child = spawn(command, args, {
    stdio: ['ignore', log, log],
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });
  closeSync(log);
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      running.delete(child);
      resolve(-1);
    });
  });
  return {
    child,
    exited,
    logTail: () => {
      try {
        return readFileSync(options.logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      } catch {
        return '(no log)';
      }
    },
    async stop(signal = 'SIGTERM') {
      if (!running.has(child)) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Calls `probe` every 100 ms until it is true; fails early if the daemon exits, or after `timeoutMs`. */
export async function waitUntil(daemon: ChildDaemon, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  let gone = false;
  void daemon.exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (gone) throw new Error(`${what} exited while starting; its log ends:\n${daemon.logTail()}`);
    if (Date.now() > deadline) {
      await daemon.stop('SIGKILL');
      throw new Error(`${what} was not ready within ${timeoutMs / 1000} s; its log ends:\n${daemon.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
