import type { z } from 'zod';
import { didYouMean } from '../commands/suggest.js';

/** One thing wrong with the configuration, where it is, and how to fix it. */
export interface ConfigProblem {
  /** Dotted path such as `services.api-gateway.health[0].url`, or an env variable name. */
  path: string;
  message: string;
  /** `file:line:column` when the problem comes from a file. */
  location?: string;
  /** The lines of the file around `location`, with a caret under the column (see `sourceExcerpt`). */
  excerpt?: string[];
}

/**
 * The line at `line`:`col` (1-based) and the one before it, numbered, with a caret under the
 * column, as compilers show a mistake:
 *
 *        9 |       - name: upstream
 *       10 |          kind: tcp
 *          |          ^
 */
export function sourceExcerpt(lines: readonly string[], line: number, col: number): string[] {
  const width = String(line).length;
  const numbered = (n: number) => `${String(n).padStart(width)} | ${(lines[n - 1] ?? '').replace(/\t/g, ' ')}`;
  const previous = line > 1 && (lines[line - 2] ?? '').trim() !== '' ? [numbered(line - 1)] : [];
  return [...previous, numbered(line), `${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`];
}

/** Where an unknown key was found: the keys allowed there, for "did you mean". */
export type KnownKeys = (path: readonly PropertyKey[]) => readonly string[];

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function problemsFromZod(error: z.ZodError, source: 'env' | 'catalog', knownKeys?: KnownKeys): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys?.(issue.path) ?? [];
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: known.length
          ? `is not a known setting.${didYouMean(key, known)} The settings here are: ${known.join(', ')}.`
          : 'is not a known setting; check its spelling against the configuration reference in README.md',
      }));
    }
    if (issue.code === 'invalid_key') {
      const key = String(issue.path[issue.path.length - 1] ?? '');
      return issue.issues.map((inner) => ({ path: formatPath(issue.path), message: `"${key}" is not a valid id: ${inner.message}` }));
    }
    if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
      // Discriminated unions report one failure per branch; the first branch's issues are the useful ones.
      const nested = issue.errors[0] ?? [];
      if (nested.length > 0) {
        return nested.map((inner) => ({ path: formatPath([...issue.path, ...inner.path]), message: inner.message }));
      }
    }
    const path = formatPath(issue.path);
    return [{ path: path === '' ? (source === 'env' ? 'environment' : '(top level)') : path, message: issue.message }];
  });
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => [`  - ${p.location ? `${p.location} ` : ''}${p.path}: ${p.message}`, ...(p.excerpt ?? []).map((line) => `      ${line}`)].join('\n'))
    .join('\n');
}
