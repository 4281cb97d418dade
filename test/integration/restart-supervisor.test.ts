import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isIntegrationError } from '../../src/integrations/integration-error.js';
import { createRestarter, RestartConfig } from '../../src/integrations/restart/index.js';
import { createXmlRpcClient } from '../../src/integrations/supervisor/xml-rpc-client.js';
import { programPath, requires } from '../helpers/requires.js';

const run = promisify(execFile);
const USER = 'ops';
const PASSWORD = 'pa55-supervisor';
const restarter = createRestarter();
const signal = () => AbortSignal.timeout(60_000);

let dir: string;
let port: number;
let socketFile: string;
let supervisord: ChildProcess | undefined;
let exited: Promise<void>;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

/** A node one-liner as a supervisord command; supervisord splits it with shlex. */
const nodeProgram = (script: string) => `${process.execPath} -e "${script}"`;

function supervisorConfig(): string {
  return [
    '[supervisord]',
    'nodaemon=true',
    `pidfile=${dir}/supervisord.pid`,
    `logfile=${dir}/supervisord.log`,
    `childlogdir=${dir}`,
    'loglevel=info',
    '',
    '[inet_http_server]',
    `port=127.0.0.1:${port}`,
    `username=${USER}`,
    `password=${PASSWORD}`,
    '',
    '[unix_http_server]',
    `file=${socketFile}`,
    'chmod=0700',
    '',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '',
    '[program:sleeper]',
    `command=${nodeProgram('setInterval(()=>{},1000)')}`,
    'startsecs=1',
    'stopwaitsecs=5',
    '',
    '[program:worker]',
    `command=${nodeProgram('setInterval(()=>{},1000)')}`,
    'startsecs=0',
    '',
    '[group:pool]',
    'programs=worker',
    '',
    '[program:stopped]',
    `command=${nodeProgram('setInterval(()=>{},1000)')}`,
    'autostart=false',
    'startsecs=0',
    '',
    '[program:stubborn]',
    // Ignores SIGTERM, so a stop lasts stopwaitsecs: longer than the restart's timeout.
    `command=${nodeProgram("process.on('SIGTERM',()=>{});setInterval(()=>{},1000)")}`,
    'startsecs=0',
    'stopwaitsecs=4',
    '',
    '[program:missing]',
    `command=${dir}/no-such-binary --serve`,
    'autostart=false',
    '',
    '[program:crasher]',
    `command=${nodeProgram('process.exit(3)')}`,
    'autostart=false',
    'startsecs=1',
    'startretries=0',
    '',
  ].join('\n');
}

const httpUrl = () => `http://127.0.0.1:${port}/RPC2`;
const viaHttp = (programs: string[], extra: Record<string, unknown> = {}) =>
  RestartConfig.parse({ kind: 'supervisor', url: httpUrl(), username: USER, password: PASSWORD, programs, ...extra });

/** supervisorctl is the independent witness: the pid it reports is the one supervisord manages. */
async function pidOf(program: string): Promise<number> {
  const { stdout } = await run('supervisorctl', ['-s', httpUrl(), '-u', USER, '-p', PASSWORD, 'pid', program]);
  return Number(stdout.trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function failure(pending: Promise<unknown>): Promise<Error> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restart to fail');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-supervisor-'));
  port = await freePort();
  socketFile = join(dir, 'supervisor.sock');
  const file = join(dir, 'supervisord.conf');
  await writeFile(file, supervisorConfig());
  const child = spawn(programPath('supervisord'), ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  supervisord = child;
  exited = new Promise((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const client = createXmlRpcClient({ url: httpUrl(), username: USER, password: PASSWORD });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const info = await client.call('supervisor.getProcessInfo', ['sleeper'], AbortSignal.timeout(2_000));
      if ((info as { statename?: string }).statename === 'RUNNING') break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`supervisord did not come up: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  if (supervisord && supervisord.exitCode === null) {
    // SIGTERM makes supervisord stop every program before it exits, so no child outlives the test.
    supervisord.kill('SIGTERM');
    const killer = setTimeout(() => supervisord?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

requires('supervisord', 'supervisorctl')('supervisor restart against a real supervisord', () => {
  it('restarts a running program over HTTP and reports the pid change', async () => {
    const before = await pidOf('sleeper');
    const outcome = await restarter.restart(viaHttp(['sleeper']), { signal: signal() });
    const after = await pidOf('sleeper');
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);
    expect(outcome).toEqual({ detail: `supervisord restarted sleeper (pid ${before} → ${after})`, targets: ['sleeper'] });
  });

  it('restarts a program in a group and simply starts a stopped one', async () => {
    const workerBefore = await pidOf('pool:worker');
    const outcome = await restarter.restart(viaHttp(['pool:worker', 'stopped']), { signal: signal() });
    const workerAfter = await pidOf('pool:worker');
    const stoppedAfter = await pidOf('stopped');
    expect(workerAfter).not.toBe(workerBefore);
    expect(stoppedAfter).toBeGreaterThan(0);
    expect(outcome.detail).toBe(
      `supervisord restarted pool:worker (pid ${workerBefore} → ${workerAfter}), stopped (was STOPPED, now pid ${stoppedAfter})`,
    );
    expect(outcome.targets).toEqual(['pool:worker', 'stopped']);
  });

  it('restarts over the unix socket', async () => {
    const before = await pidOf('sleeper');
    const config = RestartConfig.parse({ kind: 'supervisor', url: `unix://${socketFile}`, programs: ['sleeper'] });
    const outcome = await restarter.restart(config, { signal: signal() });
    const after = await pidOf('sleeper');
    expect(after).not.toBe(before);
    expect(outcome.detail).toBe(`supervisord restarted sleeper (pid ${before} → ${after})`);
  });

  it('names a bad program and restarts nothing, even the valid names before it', async () => {
    const before = await pidOf('sleeper');
    const error = await failure(restarter.restart(viaHttp(['sleeper', 'no-such-program']), { signal: signal() }));
    expect(isIntegrationError(error)).toBe(true);
    expect(error.message).toBe(`supervisord at ${httpUrl()} has no program named "no-such-program"`);
    expect((error as { options?: { hint?: string } }).options?.hint).toMatch(/supervisorctl status/);
    expect(await pidOf('sleeper')).toBe(before);
  });

  it('explains a program whose command does not exist', async () => {
    const error = await failure(restarter.restart(viaHttp(['missing']), { signal: signal() }));
    expect(error.message).toMatch(/^supervisord could not start missing: its command was not found \(.*no-such-binary.*\)$/);
  });

  it('explains a program that dies while starting, and says what was already restarted', async () => {
    const error = await failure(restarter.restart(viaHttp(['pool:worker', 'crasher']), { signal: signal() }));
    expect(error.message).toMatch(/^supervisord could not start crasher: (?:Exited too quickly|spawn error).* \(already restarted: pool:worker \(pid \d+ → \d+\)\)$/);
    expect((error as { options?: { hint?: string } }).options?.hint).toContain('supervisorctl tail crasher stderr');
  });

  it('times out a stop that takes longer than the restart timeout', async () => {
    const started = Date.now();
    const error = await failure(restarter.restart(viaHttp(['stubborn'], { timeout: '1s' }), { signal: signal() }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.message).toBe(`Restart through supervisord at ${httpUrl()} timed out after 1.0s while trying to stop stubborn`);
  });

  it('rejects a wrong password without echoing it', async () => {
    const config = RestartConfig.parse({ kind: 'supervisor', url: httpUrl(), username: USER, password: 'wrong-password', programs: ['sleeper'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(`supervisord at ${httpUrl()} rejected the username/password (HTTP 401)`);
    expect(JSON.stringify({ message: error.message, hint: (error as { options?: unknown }).options })).not.toContain('wrong-password');
  });

  it('says how to enable the HTTP server when the port is closed', async () => {
    const closed = await freePort();
    const config = RestartConfig.parse({ kind: 'supervisor', url: `http://127.0.0.1:${closed}/RPC2`, programs: ['sleeper'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(
      `supervisord at http://127.0.0.1:${closed}/RPC2 refused the connection; is supervisord running with its HTTP server enabled?`,
    );
    expect((error as { options?: { hint?: string } }).options?.hint).toContain('[inet_http_server]');
  });

  it('says how to enable the unix socket when it is missing', async () => {
    const config = RestartConfig.parse({ kind: 'supervisor', url: `unix://${dir}/absent.sock`, programs: ['sleeper'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(
      `supervisord at unix://${dir}/absent.sock has no socket file at that path; is supervisord running with its unix socket enabled?`,
    );
    expect((error as { options?: { hint?: string } }).options?.hint).toContain('[unix_http_server]');
  });
});
