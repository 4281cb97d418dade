/**
 * Runs once around the whole test run (vitest `globalSetup`):
 * - provisions PostgreSQL and Redis (see test-postgres.ts, test-redis.ts) and looks up every
 *   program tests may need, once, so no test waits out a timeout to learn something is missing;
 * - hands the results to the test workers through the environment they inherit
 *   (DATABASE_URL, REDIS_URL, SWITCHBOARD_TEST_NEEDS, and PATH with the programs found);
 * - fails the run if it wrote to the project or to the app's data folder;
 * - ends with one summary of what was not run, and why.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { NEEDS_ENV, RUN_DIR_ENV, SKIPS_FILE, isStrict, redisInstallHint, type Need, type NeedStatus, type SkipRecord } from './needs.js';
import { PROGRAMS, findProgram, installHint, type ProgramName } from './programs.js';
import { provisionPostgres } from './test-postgres.js';
import { provisionRedis } from './test-redis.js';
import { changesBetween, snapshotTrees } from './write-guard.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = project.config.root;
  const watched = watchedFolders(root);
  const before = snapshotTrees(watched);
  const runDir = mkdtempSync(join(tmpdir(), 'switchboard-test-run-'));

  const programs = new Map<ProgramName, ReturnType<typeof findProgram>>();
  for (const name of Object.keys(PROGRAMS) as ProgramName[]) programs.set(name, findProgram(name));
  const pathOf = (name: ProgramName) => {
    const found = programs.get(name)!;
    return 'path' in found ? found.path : undefined;
  };

  const postgres = await provisionPostgres(process.env);
  const redis = await provisionRedis(process.env, pathOf('redis-server')).catch(async (error: unknown) => {
    await postgres.stop();
    throw error;
  });
  process.env.DATABASE_URL = postgres.url;
  if ('url' in redis) process.env.REDIS_URL = redis.url;

  // A pg_dump older than the server refuses to dump it; such a pg_dump counts as missing.
  for (const name of ['pg_dump', 'pg_restore'] as const) {
    const path = pathOf(name);
    const major = path ? await clientMajor(path) : undefined;
    if (path && (major === undefined || major < postgres.serverMajor)) {
      programs.set(name, { missing: `${path} is PostgreSQL ${major ?? '?'}, older than the tests' PostgreSQL ${postgres.serverMajor} server` });
    }
  }

  const needs: Record<string, NeedStatus> = {};
  for (const [name, found] of programs) needs[name] = 'path' in found ? found : { missing: found.missing, install: installHint(name) };
  needs.redis = 'url' in redis ? {} : { missing: redis.missing, install: redisInstallHint() };
  process.env[NEEDS_ENV] = JSON.stringify(needs);
  process.env[RUN_DIR_ENV] = runDir;
  // Code under test runs programs by name (pg_dump, supervisord): the ones found come first on PATH.
  process.env.PATH = [linkPrograms(runDir, programs), process.env.PATH].filter(Boolean).join(delimiter);

  const missing = Object.entries(needs).filter(([, s]) => 'missing' in s).map(([n]) => n);
  console.log(
    [
      `PostgreSQL: ${postgres.origin}.`,
      `Redis: ${'url' in redis ? `${redis.origin}.` : `none (${redis.missing}).`}`,
      ...(missing.length ? [`Not found: ${missing.join(', ')}; tests that need them are ${isStrict() ? 'FAILED (strict mode: CI or SWITCHBOARD_TEST_STRICT)' : 'skipped'}.`] : []),
    ].join('\n'),
  );

  return async () => {
    await Promise.all([postgres.stop(), 'url' in redis ? redis.stop() : undefined]);
    printSkips(runDir, root);
    rmSync(runDir, { recursive: true, force: true });
    const changes = changesBetween(before, snapshotTrees(watched), root);
    if (changes.length) {
      console.error(
        [
          '',
          `The tests wrote where they must not (${watched.map((w) => relative(root, w) || '.').join(', ')}):`,
          ...changes.slice(0, 30).map((line) => `  ${line}`),
          ...(changes.length > 30 ? [`  … and ${changes.length - 30} more`] : []),
          'Tests keep their files in temporary folders (os.tmpdir()) and their data in databases they create.',
          '(If you edited these files yourself during the run, run the tests again.)',
        ].join('\n'),
      );
      process.exitCode = 1;
    }
  };
}

/** The project, and the app's data folder wherever SWITCHBOARD_DATA_DIR puts it (./.data by default, inside the project). */
function watchedFolders(root: string): string[] {
  const dataDir = resolve(root, process.env.SWITCHBOARD_DATA_DIR || './.data');
  const inside = !relative(root, dataDir).startsWith('..');
  return inside ? [root] : [root, dataDir];
}

async function clientMajor(path: string): Promise<number | undefined> {
  const { stdout } = await promisify(execFile)(path, ['--version'], { timeout: 10_000 }).catch(() => ({ stdout: '' }));
  const match = /\(PostgreSQL\) (\d+)/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/** A folder of symlinks, named as the code under test calls them, to each program found. */
function linkPrograms(runDir: string, programs: Map<ProgramName, ReturnType<typeof findProgram>>): string {
  const bin = join(runDir, 'bin');
  mkdirSync(bin);
  for (const [name, found] of programs) {
    if (!('path' in found)) continue;
    for (const command of PROGRAMS[name].commands) if (!existsSync(join(bin, command))) symlinkSync(found.path, join(bin, command));
  }
  return bin;
}

function printSkips(runDir: string, root: string): void {
  const file = join(runDir, SKIPS_FILE);
  if (!existsSync(file)) return;
  const records = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as SkipRecord);
  const byNeed = new Map<Need, { missing: string; install: string; files: Set<string> }>();
  for (const record of records) {
    for (const need of record.needs) {
      const entry = byNeed.get(need.need) ?? { missing: need.missing, install: need.install, files: new Set<string>() };
      entry.files.add(relative(root, record.file));
      byNeed.set(need.need, entry);
    }
  }
  const files = new Set(records.map((r) => r.file));
  const verb = isStrict() ? 'FAILED, not run (strict mode)' : 'not run';
  console.log(
    [
      '',
      `Tests ${verb} on this machine, in ${files.size} file${files.size === 1 ? '' : 's'}:`,
      ...[...byNeed].flatMap(([need, entry]) => [`  needs ${need}: ${entry.missing}. Install: ${entry.install}`, ...[...entry.files].sort().map((f) => `    ${f}`)]),
      'README.md → Development lists what each needs; CI=true makes any of these a failure.',
    ].join('\n'),
  );
}
