import { Document, parse } from 'yaml';
import { formatDuration, parseDuration } from '../config/duration.js';

/** How much faster than production the demo's copy of the rules reacts. */
export interface DemoTiming {
  /** Upper bound of every rule's `for:` (production waits up to an hour). */
  for: string;
  /** Upper bound of every range selector (`[5m]`), so a rate follows a switch within this. */
  range: string;
  /** Step of subqueries (`[10m:30s]`), at most `range`. */
  step: string;
  /** BackupTooOld's threshold instead of "a day and two hours". */
  backupAge: string;
  /** Prometheus scrape and evaluation interval. */
  interval: string;
}

/** The demo's own timing: an alert a quarter of a minute after its cause, a backup "too old" after two minutes. */
export const DEMO_TIMING: DemoTiming = { for: '15s', range: '1m', step: '5s', backupAge: '2m', interval: '5s' };

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}

const ms = (text: string, what: string): number => {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`${what} "${text}" is not a duration the demo can shorten`);
  return value;
};
const promDuration = (milliseconds: number): string => (milliseconds % 60_000 === 0 ? `${milliseconds / 60_000}m` : `${Math.max(1, Math.round(milliseconds / 1000))}s`);
const RANGE = /\[(\d+[smhd])(?::(\d+[smhd]))?\]/g;
const BACKUP_AGE = /(backup_last_success_timestamp_seconds\s*\{[^}]*\}\s*>\s*)[\d\s*+]+$/;

/**
 * The demo's copy of a production rule file (examples/rules/): the same alerts and
 * expressions with `for:`, range selectors and the backup age threshold shortened, so a switch
 * in the demo shows its alert within seconds. Each alert says so in its `demo` annotation,
 * and the file says so at the top. The originals stay production-shaped.
 */
export function deriveDemoRules(text: string, source: string, timing: DemoTiming = DEMO_TIMING): string {
  const file = parse(text) as RuleFile;
  const maxFor = ms(timing.for, 'for');
  const maxRange = ms(timing.range, 'range');
  const step = promDuration(Math.min(ms(timing.step, 'step'), maxRange));
  const backupAgeSeconds = Math.round(ms(timing.backupAge, 'backupAge') / 1000);
  for (const group of file.groups) {
    for (const rule of group.rules) {
      if (!rule.alert) continue;
      const changes: string[] = [];
      if (rule.for !== undefined && ms(rule.for, `for of ${rule.alert}`) > maxFor) {
        changes.push(`for: ${rule.for} → ${timing.for}`);
        rule.for = timing.for;
      }
      const shortened = rule.expr.replace(RANGE, (whole, range: string, subStep?: string) => {
        const bounded = Math.min(ms(range, `range of ${rule.alert}`), maxRange);
        return `[${promDuration(bounded)}${subStep ? `:${step}` : ''}]`;
      });
      if (shortened !== rule.expr) changes.push('ranges at most ' + timing.range);
      const aged = shortened.trimEnd().replace(BACKUP_AGE, (_whole, head: string) => `${head}${backupAgeSeconds}`);
      if (aged !== shortened.trimEnd()) changes.push(`backup age ${formatDuration(backupAgeSeconds * 1000)} instead of the production threshold`);
      rule.expr = aged === shortened.trimEnd() ? shortened : aged;
      if (changes.length) rule.annotations = { ...rule.annotations, demo: `Demo timing (${changes.join('; ')}); production values in ${source}` };
    }
  }
  const doc = new Document(file);
  doc.commentBefore = [
    ` Demo copy of ${source}, written by src/simulator/demo-rules.ts when the demo starts.`,
    ` Shortened so the demo's switches show their alerts quickly: for: at most ${timing.for}, ranges at most`,
    ` ${timing.range}, BackupTooOld after ${timing.backupAge}. Edit the original, not this file.`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
