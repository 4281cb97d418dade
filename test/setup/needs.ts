import { installHint, type ProgramName } from './programs.js';

/** What a test file can require: a program, or `redis` (a Redis server the run reaches or started). */
export type Need = ProgramName | 'redis';

/** Whether a need is met on this run; `missing` says why not, `install` how to fix it. */
export type NeedStatus = { path?: string } | { missing: string; install: string };

/** How the run's global setup hands its findings to the test workers (they inherit its environment). */
export const NEEDS_ENV = 'SWITCHBOARD_TEST_NEEDS';
/** A folder that lives as long as the run: workers record their skips there for the closing summary. */
export const RUN_DIR_ENV = 'SWITCHBOARD_TEST_RUN_DIR';
export const SKIPS_FILE = 'skips.jsonl';

export interface SkipRecord {
  file: string;
  suite: string;
  needs: Array<{ need: Need; missing: string; install: string }>;
}

/** CI must run everything: there a missing program fails the run instead of skipping tests. */
export function isStrict(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (value: string | undefined) => value !== undefined && value !== '' && value !== '0' && value !== 'false';
  return on(env.CI) || on(env.SWITCHBOARD_TEST_STRICT);
}

export function redisInstallHint(): string {
  return installHint('redis-server');
}
