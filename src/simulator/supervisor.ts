import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createXmlRpcClient } from '../integrations/supervisor/xml-rpc-client.js';
import type { StandInConfig } from './simulator-plan.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STAND_IN_MAIN = fileURLToPath(new URL('./stand-in-main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface Supervisor {
  url: string;
  /** supervisord's state of a program: RUNNING, EXITED, … */
  stateOf(program: string): Promise<string>;
  stop(): Promise<void>;
}

/** A real supervisord (Debian `supervisor`) in `dir`, serving XML-RPC on 127.0.0.1:`port` and running the stand-ins. */
export async function startSupervisor(options: { dir: string; port: number; programs: Array<StandInConfig & { program: string }> }): Promise<Supervisor> {
  const { dir, port } = options;
  const sections = options.programs.flatMap((p) => {
    const config = Buffer.from(JSON.stringify(p)).toString('base64url');
    return [
      `[program:${p.program}]`,
      `command=${process.execPath} --import tsx ${STAND_IN_MAIN} ${config}`,
      `directory=${PROJECT_ROOT}`,
      // A crashed stand-in stays down until someone restarts it, as the demo wants.
      'autorestart=false',
      'startsecs=1',
      'stopwaitsecs=5',
      'stopasgroup=true',
      'killasgroup=true',
      `stdout_logfile=${join(dir, `${p.program}.log`)}`,
      'redirect_stderr=true',
    ];
  });
  const conf = [
    '[supervisord]',
    'nodaemon=true',
    `pidfile=${join(dir, 'supervisord.pid')}`,
    `logfile=${join(dir, 'supervisord.log')}`,
    `childlogdir=${dir}`,
    '[inet_http_server]',
    `port=127.0.0.1:${port}`,
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    ...sections,
  ].join('\n');
  await writeFile(join(dir, 'supervisord.conf'), conf);
  const child = spawn('supervisord', ['-c', join(dir, 'supervisord.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}/RPC2`;
  const client = createXmlRpcClient({ url });
  const stateOf = async (program: string) => {
    const info = (await client.call('supervisor.getProcessInfo', [program], AbortSignal.timeout(5_000))) as { statename?: string };
    return info.statename ?? 'UNKNOWN';
  };
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gone) throw new Error(`supervisord exited at once; is port ${port} taken (another supervisord)? See ${join(dir, 'supervisord.log')}`);
    const states = await Promise.all(options.programs.map((p) => stateOf(p.program).catch(() => 'UNKNOWN')));
    if (states.every((s) => s === 'RUNNING')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`supervisord did not start every program (${options.programs.map((p, i) => `${p.program}: ${states[i]}`).join(', ')}); see the logs in ${dir}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, stateOf, stop };
}
