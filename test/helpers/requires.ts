/**
 * Test files that need a program or service beyond Node.js declare it on their top-level suite:
 *
 *   requires('alertmanager', 'prometheus')('alert rules end to end', () => { ... });
 *   requires('redis').each(['a', 'b'])('breaker on %s', (kind) => { ... });
 *
 * The run's global setup (test/setup/global-setup.ts) has already looked everything up, once. When
 * a need is missing the suite is skipped, with the reason and the install command in its name, and
 * listed in the run's closing summary; under CI=true (or SWITCHBOARD_TEST_STRICT=1) the file fails
 * instead. A single test with a need of its own: `requires('pg_dump').it('backs up', async () => …)`.
 * Names are those of test/setup/programs.ts, plus `redis`: add a program there before requiring it.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEEDS_ENV, RUN_DIR_ENV, SKIPS_FILE, isStrict, type Need, type NeedStatus, type SkipRecord } from '../setup/needs.js';

export type { Need } from '../setup/needs.js';

/** What `requires()` gives: `describe` (with `.each`), and `.it` for a single test with a need of its own. */
export type RequiredDescribe = typeof describe & { it: typeof it };

/**
 * `describe` when every need is met. Otherwise a stand-in that skips the suite with the reason and
 * the install command in its name; in strict mode (CI) the file fails at once, before its hooks run.
 */
export function requires(...needs: Need[]): RequiredDescribe {
  const missing = needs.flatMap((need) => {
    const status = needStatus(need);
    return 'missing' in status ? [{ need, missing: status.missing, install: status.install }] : [];
  });
  if (missing.length === 0) return describeWithIt;
  const suffix = ` (needs ${missing.map((m) => `${m.need}: ${m.install}`).join('; ')})`;
  const file = expect.getState().testPath ?? 'unknown file';
  const skip = (name: string) => {
    recordSkip({ file, suite: name, needs: missing });
    if (isStrict()) {
      throw new Error(
        `Strict mode (CI or SWITCHBOARD_TEST_STRICT) runs every test, and "${name}" cannot run here: ${missing.map((m) => `${m.need}: ${m.missing}; install with \`${m.install}\``).join('; ')}`,
      );
    }
    return `${name}${suffix}`;
  };
  // Casts: these stand-ins take the same arguments as describe/it and only add the reason to the name.
  const skipped = (name: string, fn?: () => void) => describe.skip(skip(name), fn);
  const each = (cases: readonly unknown[]) => (name: string, fn: (...args: unknown[]) => void) => describe.skip.each(cases as unknown[])(skip(name), fn);
  const skippedIt = (name: string, fn?: () => void) => it.skip(skip(name), fn);
  return Object.assign(skipped, { each, it: skippedIt }) as unknown as RequiredDescribe;
}

/** vitest's own describe, plus `.it`, without adding a property to describe itself. */
const describeWithIt = new Proxy(describe, { get: (target, key, receiver) => (key === 'it' ? it : Reflect.get(target, key, receiver)) }) as RequiredDescribe;

/** The absolute path of a program the run found (for a file that first `requires` it). */
export function programPath(name: Exclude<Need, 'redis'>): string {
  const status = needStatus(name);
  if ('missing' in status || !status.path) throw new Error(`${name} is not available (${'missing' in status ? status.missing : 'no path'}): wrap the suite in requires('${name}')`);
  return status.path;
}

/** Whether a need is met on this run, as the global setup found it. */
export function needStatus(need: Need): NeedStatus {
  const text = process.env[NEEDS_ENV];
  if (!text) throw new Error(`${NEEDS_ENV} is not set: run the tests through vitest.config.ts (npm test), whose global setup looks the programs up`);
  const status = (JSON.parse(text) as Record<string, NeedStatus>)[need];
  if (!status) throw new Error(`unknown need "${need}": add it to test/setup/programs.ts`);
  return status;
}

function recordSkip(record: SkipRecord): void {
  const dir = process.env[RUN_DIR_ENV];
  if (dir) appendFileSync(join(dir, SKIPS_FILE), `${JSON.stringify(record)}\n`);
}
