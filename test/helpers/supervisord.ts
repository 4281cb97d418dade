import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createXmlRpcClient } from '../../src/integrations/supervisor/xml-rpc-client.js';
import { programPath } from './requires.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A node HTTP server answering /health, as a supervisord command line (supervisord splits it with shlex). */
export const nodeHealthServer = (port: number) =>
  `${process.execPath} -e "require('http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end(JSON.stringify({status:'healthy',pid:process.pid}))}).listen(${port},'127.0.0.1')"`;

export interface Supervisord {
  /** XML-RPC endpoint for the catalog's `restart.url`. */
  url: string;
  pidOf(program: string): Promise<number>;
  stop(): Promise<void>;
}

/** A real supervisord in a temporary folder, managing the given programs; stop() kills it and its children. Needs `requires('supervisord')`. */
export async function startSupervisord(programs: Record<string, string>): Promise<Supervisord> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-supervisord-'));
  const port = await freePort();
  const config = [
    '[supervisord]',
    'nodaemon=true',
    `pidfile=${dir}/supervisord.pid`,
    `logfile=${dir}/supervisord.log`,
    `childlogdir=${dir}`,
    '[inet_http_server]',
    `port=127.0.0.1:${port}`,
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    ...Object.entries(programs).flatMap(([name, command]) => [`[program:${name}]`, `command=${command}`, 'startsecs=1', 'stopwaitsecs=5', 'stopasgroup=true', 'killasgroup=true']),
  ].join('\n');
  await writeFile(join(dir, 'supervisord.conf'), config);
  const child: ChildProcess = spawn(programPath('supervisord'), ['-c', join(dir, 'supervisord.conf')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/RPC2`;
  const client = createXmlRpcClient({ url });
  const pidOf = async (program: string) => {
    const info = (await client.call('supervisor.getProcessInfo', [program], AbortSignal.timeout(5_000))) as { pid: number };
    return info.pid;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pids = await Promise.all(Object.keys(programs).map((p) => pidOf(p).catch(() => 0)));
    if (pids.every((pid) => pid > 0)) break;
    if (Date.now() > deadline) throw new Error(`supervisord did not start its programs; see ${dir}/supervisord.log`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pidOf,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
