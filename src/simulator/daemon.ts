import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface Daemon {
  /** http://127.0.0.1:<port> */
  url: string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs a Prometheus-family server (they all answer `/-/ready`) on a free loopback port, logging
 * to `<dir>/<name>.log`, and waits until it is ready; a port taken between probe and bind is retried.
 */
export async function startDaemon(options: { name: string; command: string; dir: string; args: (listen: string) => string[]; port?: number; timeoutMs?: number }): Promise<Daemon> {
  const logFile = join(options.dir, `${options.name}.log`);
  for (let attempt = 1; ; attempt++) {
    const url = `http://127.0.0.1:${options.port ?? (await freePort())}`;
    const log = openSync(logFile, 'w');
    const child = spawn(options.command, options.args(url.slice('http://'.length)), { cwd: options.dir, stdio: ['ignore', log, log] });
    closeSync(log);
    let gone = false;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }).then(() => void (gone = true));
    const stop = async () => {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    };
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (!gone && Date.now() < deadline) {
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status === 200, () => false);
      if (ready) return { url, stop };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await stop();
    const text = await readFile(logFile, 'utf8').catch(() => '');
    if (/address already in use/i.test(text) && options.port === undefined && attempt < 3) continue;
    throw new Error(`${options.name} ${gone ? 'exited' : 'was not ready in time'}; its log ends:\n${text.trim().split('\n').slice(-10).join('\n')}`);
  }
}
