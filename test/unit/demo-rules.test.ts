import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/config/duration.js';
import { DEMO_TIMING, deriveDemoRules } from '../../src/simulator/demo-rules.js';
import { requires } from '../helpers/requires.js';

const run = promisify(execFile);
const RULES_DIR = fileURLToPath(new URL('../../examples/rules/', import.meta.url));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesOf = (text: string): Rule[] => (parse(text) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

let originals: Record<string, string>;
let copies: Record<string, string>;
let dir: string;

beforeAll(async () => {
  const files = (await readdir(RULES_DIR)).filter((f) => f.endsWith('.yml')).sort();
  originals = Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(RULES_DIR, f), 'utf8')] as const)));
  copies = Object.fromEntries(files.map((f) => [f, deriveDemoRules(originals[f]!, `examples/rules/${f}`)]));
  dir = await mkdtemp(join(tmpdir(), 'switchboard-demo-rules-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the demo's copy of examples/rules/", () => {
  it('keeps every alert, label and message, and says at the top that it is a shortened copy', () => {
    for (const [file, copy] of Object.entries(copies)) {
      expect(copy.startsWith(`# Demo copy of examples/rules/${file}`), file).toBe(true);
      const before = rulesOf(originals[file]!);
      const after = rulesOf(copy);
      expect(after.map((r) => r.alert), file).toEqual(before.map((r) => r.alert));
      after.forEach((rule, i) => {
        expect(rule.labels).toEqual(before[i]!.labels);
        const { demo, ...annotations } = rule.annotations;
        expect(annotations).toEqual(before[i]!.annotations);
        if (rule.for !== before[i]!.for || rule.expr !== before[i]!.expr) expect(demo, `${file} ${rule.alert}`).toContain(`production values in examples/rules/${file}`);
      });
    }
  });

  it(`waits at most ${DEMO_TIMING.for}, looks back at most ${DEMO_TIMING.range}, and calls a backup too old after ${DEMO_TIMING.backupAge}`, () => {
    const all = Object.values(copies).flatMap(rulesOf);
    for (const rule of all) {
      if (rule.for) expect(parseDuration(rule.for)!, rule.alert).toBeLessThanOrEqual(parseDuration(DEMO_TIMING.for)!);
      for (const [, range] of rule.expr.matchAll(/\[(\d+[smhd])[\]:]/g)) expect(parseDuration(range!)!, `${rule.alert}: ${rule.expr}`).toBeLessThanOrEqual(parseDuration(DEMO_TIMING.range)!);
    }
    const tooOld = all.filter((r) => r.alert === 'BackupTooOld');
    expect(tooOld).toHaveLength(3);
    for (const rule of tooOld) expect(rule.expr.trim()).toMatch(/backup_last_success_timestamp_seconds\{[^}]*\} > 120$/);
    // The originals are untouched: production waits an hour for a failed backup.
    expect(rulesOf(originals['selextract.yml']!).find((r) => r.alert === 'BackupFailed')!.for).toBe('1h');
  });

  requires('promtool').it('passes promtool check rules', async () => {
    const files = await Promise.all(Object.entries(copies).map(async ([file, copy]) => {
      const path = join(dir, file);
      await writeFile(path, copy);
      return path;
    }));
    const { stdout } = await run('promtool', ['check', 'rules', ...files]);
    expect(stdout.match(/SUCCESS/g)?.length).toBe(files.length);
  });
});
