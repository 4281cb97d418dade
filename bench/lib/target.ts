import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A server under test in its own process, so the load generator (this process) does not share
 * its event loop. Protocol over IPC: we send `start` with the target's options, it answers
 * `ready` with its URL; we send `stop`, it answers `stopped` and exits.
 */
export interface Target {
  url: string;
  pid: number;
  /** Resolves with the counters the target kept (e.g. SQL statements sent), if any. */
  stop(): Promise<Record<string, number>>;
}

export type TargetMessage = { type: 'ready'; url: string } | { type: 'stopped'; stats?: Record<string, number> } | { type: 'failed'; error: string };

const running = new Set<ChildProcess>();

/** Ends every target this process started (for Ctrl-C); each by its own pid. */
export function killTargets(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export async function startTarget(script: 'bare-server' | 'switchboard-server', start: Record<string, unknown>, options: { cpuProfileDir?: string; label?: string } = {}): Promise<Target> {
  const file = fileURLToPath(new URL(`../targets/${script}.ts`, import.meta.url));
  // Node writes one profile per thread (tsx's module loader has its own); mainThreadProfile() picks ours.
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfileDir, `${script}${options.label ? `-${options.label}` : ''}`)}`] : [];
  // stdout is /dev/null: the Switchboard logs at info as in production, and nobody reads it here
  // unless BENCH_TARGET_LOG names a file to append its log to (for debugging the bench).
  const logFile = process.env.BENCH_TARGET_LOG ? openSync(process.env.BENCH_TARGET_LOG, 'a') : 'ignore';
  const child = fork(file, [], { execArgv: [...process.execArgv, ...profile], stdio: ['ignore', logFile, 'pipe', 'ipc'] });
  if (typeof logFile === 'number') closeSync(logFile);
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => running.delete(child));

  const next = (type: TargetMessage['type'], timeoutMs: number) =>
    new Promise<TargetMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no "${type}" within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
      const onMessage = (message: TargetMessage) => {
        if (message.type !== type && message.type !== 'failed') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (message.type === 'failed') reject(new Error(`${script} failed: ${message.error}\n${stderr}`));
        else resolve(message);
      };
      child.on('message', onMessage);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited with code ${code}\n${stderr}`));
      });
    });

  const ready = next('ready', 30_000);
  child.send({ type: 'start', ...start });
  const message = await ready.catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url: (message as { url: string }).url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return {};
      const stopped = next('stopped', 20_000).catch(() => undefined);
      child.send({ type: 'stop' });
      const answer = await stopped;
      // The child exits by itself (writing its CPU profile on the way); give it a moment, then insist.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return (answer as { stats?: Record<string, number> } | undefined)?.stats ?? {};
    },
  };
}

/** Child side: wires `start`/`stop` messages to the target's own functions. */
export function serveTarget(handlers: { start(message: Record<string, unknown>): Promise<string>; stop(): Promise<void>; stats?(): Record<string, number> }): void {
  const send = (message: TargetMessage) => process.send?.(message);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await handlers.stop().catch((error: unknown) => process.stderr.write(`stop failed: ${String(error)}\n`));
    // Exit only once the answer is on its way; --cpu-prof writes its profile during exit.
    if (process.connected) process.send?.({ type: 'stopped', stats: handlers.stats?.() ?? {} } satisfies TargetMessage, () => process.exit(0));
    else process.exit(0);
  };
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'start') {
      handlers.start(message as Record<string, unknown>).then(
        (url) => send({ type: 'ready', url }),
        (error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
    } else if (message.type === 'stop') void stop();
  });
  // The bench died or was interrupted: do not linger.
  process.on('disconnect', () => void stop());
}

/** The main thread's profile among those a target wrote to `dir` (thread id 0 in Node's file names). */
export async function mainThreadProfile(dir: string): Promise<string | undefined> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const main = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  return main ? join(dir, main) : undefined;
}
