import type { z } from 'zod';

/** One thing wrong with the configuration, where it is, and how to fix it. */
export interface ConfigProblem {
  /** Dotted path such as `services.api-gateway.health[0].url`, or an env variable name. */
  path: string;
  message: string;
  /** `file:line:column` when the problem comes from a file. */
  location?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function problemsFromZod(error: z.ZodError, source: 'env' | 'catalog'): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: 'is not a known setting; check its spelling against the configuration reference in README.md',
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
    .map((p) => `  - ${p.location ? `${p.location} ` : ''}${p.path}: ${p.message}`)
    .join('\n');
}
