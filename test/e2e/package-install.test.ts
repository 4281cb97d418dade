import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/supervisord.js';
import { createTempDatabase } from '../helpers/temp-database.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work: string | undefined;
let child: ChildProcess | undefined;
let dropDatabase: (() => Promise<void>) | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  await dropDatabase?.();
  if (work) await rm(work, { recursive: true, force: true });
});

// What a checkout holds besides the project: installed packages, git, builds and local data.
const NOT_PROJECT = new Set(['node_modules', '.git', 'dist', '.data', 'coverage']);

/** The project's files in a folder of their own, so packing builds there and never in the working tree. */
async function copyOfProject(into: string): Promise<void> {
  await cp(root, into, { recursive: true, filter: (source) => !NOT_PROJECT.has(relative(root, source).split(sep)[0]!) });
  await symlink(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
}

describe('the package npm pack makes', () => {
  it('installs into an empty prefix and runs `switchboard check` and `switchboard start` as compiled JavaScript', async () => {
    work = await mkdtemp(join(tmpdir(), 'switchboard-pack-'));
    const project = join(work, 'project');
    const prefix = join(work, 'prefix');
    await copyOfProject(project);
    await mkdir(prefix);

    // `prepare` compiles at pack time: the tarball carries dist/, and installing it runs no build.
    await run(npm, ['pack', '--silent', '--pack-destination', work], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    await run(npm, ['install', '--prefix', prefix, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball!)], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    const installed = join(prefix, 'node_modules', 'switchboard');
    const bin = join(prefix, 'node_modules', '.bin', 'switchboard');
    // A development tool must not be what runs the installed bot.
    expect(await readdir(join(prefix, 'node_modules'))).not.toContain('tsx');
    expect(await readdir(installed)).not.toContain('src');

    const check = await run(bin, ['check'], { cwd: work, env: { PATH: process.env.PATH!, HOME: work } });
    expect(check.stdout).toMatch(/examples\/switchboard\.yml is valid/);

    const database = await createTempDatabase('sb_pack');
    dropDatabase = database.drop;
    const port = await freePort();
    const env = { PATH: process.env.PATH!, HOME: work, PORT: String(port), DATABASE_URL: database.url };
    child = spawn(bin, ['start'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let ready: Response | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && ready?.status !== 200; ) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (ready?.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready?.status, output).toBe(200);
    expect(await ready!.json()).toEqual({ status: 'ready', store: 'postgres' });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 240_000);
});
