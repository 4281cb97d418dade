import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestarter, RestartConfig } from '../../src/integrations/restart/index.js';

const restarter = createRestarter();
const node = process.execPath;
const signal = () => AbortSignal.timeout(30_000);
let dir: string;

const command = (argv: string[], extra: Record<string, unknown> = {}) => RestartConfig.parse({ kind: 'command', argv, ...extra });

async function failure(pending: Promise<unknown>): Promise<Error> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restart to fail');
}

const exists = (file: string) => access(file).then(() => true, () => false);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-command-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('command restart', () => {
  it('runs the program and reports how long it took', async () => {
    const outcome = await restarter.restart(command([node, '-e', 'console.log("restarted")']), { signal: signal() });
    expect(outcome.detail).toMatch(/^`.+ -e "console\.log\(\\"restarted\\"\)"` finished in [\d.]+m?s$/);
    expect(outcome.targets).toEqual([node]);
  });

  it('fails on a non-zero exit with the last lines of output, secrets from env removed', async () => {
    const script = 'for (let i = 1; i <= 8; i++) console.log("line " + i); console.error("token " + process.env.RESTART_TOKEN + " rejected"); process.exit(3)';
    const error = await failure(
      restarter.restart(command([node, '-e', script], { env: { RESTART_TOKEN: 'tok-9f8e7d6c' } }), { signal: signal() }),
    );
    expect(error.name).toBe('IntegrationError');
    expect(error.message).toMatch(/exited with code 3: line 5 ⏎ line 6 ⏎ line 7 ⏎ line 8 ⏎ token \*\*\* rejected$/);
    expect(error.message).not.toContain('tok-9f8e7d6c');
  });

  it('kills the program when the timeout passes', async () => {
    const pidFile = join(dir, 'slow.pid');
    const script = `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`;
    const started = Date.now();
    const error = await failure(restarter.restart(command([node, '-e', script], { timeout: '700ms' }), { signal: signal() }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toMatch(/timed out after/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => isAlive(pid), { timeout: 4_000 }).toBe(false);
  });

  it('passes shell syntax literally: no shell ever runs', async () => {
    const argvFile = join(dir, 'argv.json');
    const marker = join(dir, 'pwned');
    const hostile = [`; touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, `| touch ${marker}`, '&& echo $HOME'];
    const script = 'require("fs").writeFileSync(process.env.ARGV_FILE, JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd() }))';
    await restarter.restart(command([node, '-e', script, ...hostile], { env: { ARGV_FILE: argvFile }, cwd: dir }), { signal: signal() });
    expect(JSON.parse(await readFile(argvFile, 'utf8'))).toEqual({ argv: hostile, cwd: dir });
    expect(await exists(marker)).toBe(false);
  });

  it('explains a program that is not installed', async () => {
    const error = await failure(restarter.restart(command(['no-such-restart-tool', 'restart']), { signal: signal() }));
    expect(error.message).toBe('no-such-restart-tool was not found; install it or give its full path in the catalog');
  });
});
