import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
let child: ChildProcess | undefined;
let dataDir: string | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterAll(async () => {
  child?.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start with a Slack variable set but blank', () => {
  // One variable here (a process start is slow); test/unit/config.test.ts covers each of them.
  it.each(['SLACK_SIGNING_SECRET'])('refuses to start, naming %s, instead of starting the sandbox', async (name) => {
    const port = await freePort();
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', PORT: String(port), SWITCHBOARD_DATA_DIR: join(tmpdir(), 'switchboard-never-created'), [name]: '  ' };
    const blank = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    blank.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    blank.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => blank.once('exit', resolve));
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`${name}: is set but empty`));
    expect(output).not.toContain('sandbox');
  }, 90_000);
});

describe('npm start with no Slack credentials and no database', () => {
  it('serves /healthz and /readyz on the embedded store, says how to connect Slack, and stops cleanly on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-start-'));
    const port = await freePort();
    // Only what a fresh shell has, plus a free port and a throwaway data folder.
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', PORT: String(port), SWITCHBOARD_DATA_DIR: dataDir };
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const deadline = Date.now() + 45_000;
    let healthz: Response | undefined;
    while (Date.now() < deadline && !healthz) {
      healthz = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!healthz) await new Promise((r) => setTimeout(r, 200));
    }
    expect(healthz?.status, output).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', store: 'pglite' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('switchboard_http_request_duration_seconds_bucket');
    expect(metrics).toContain('process_cpu_user_seconds_total');

    const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: number });
    const notice = lines.filter((l) => l.msg.startsWith('Slack is not connected'));
    expect(notice).toHaveLength(1);
    // The sandbox is given out with its token, and answers nothing without it.
    const sandboxUrl = new RegExp(`http://localhost:${port}/sandbox\\?token=[A-Za-z0-9_-]+`).exec(notice[0]!.msg)?.[0];
    expect(sandboxUrl, notice[0]!.msg).toBeDefined();
    expect((await fetch(sandboxUrl!)).status).toBe(200);
    expect((await fetch(`http://localhost:${port}/sandbox`)).status).toBe(403);
    expect(lines.some((l) => l.msg.includes('example catalog'))).toBe(true);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"');
  }, 60_000);
});
