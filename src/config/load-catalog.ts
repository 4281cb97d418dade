import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document } from 'yaml';
import { CatalogSchema, type Catalog } from './catalog-schema.js';
import { knownKeysAt } from './known-keys.js';
import { formatProblems, problemsFromZod, sourceExcerpt, type ConfigProblem } from './problems.js';
import { yamlSyntaxProblem } from './yaml-syntax-problem.js';

export class CatalogError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}`);
  }
}

const OPTIONAL_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*):-\}$/;
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string; a missing variable is a problem, not an empty string. */
function interpolate(value: unknown, env: Record<string, string | undefined>, path: (string | number)[], problems: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_whole, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path: pathText(path), message: `refers to \${${name}}, which is not set; export ${name} before starting` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, [...path, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        // `password: ${SUPERVISOR_PASSWORD:-}` with the variable unset means "no password", not an empty one.
        .filter(([, item]) => !(typeof item === 'string' && OPTIONAL_REF.test(item) && !env[OPTIONAL_REF.exec(item)![1]!]))
        .map(([key, item]) => [key, interpolate(item, env, [...path, key], problems)]),
    );
  }
  return value;
}

function pathText(path: (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

const rangeOf = (node: unknown): [number, number, number] | undefined =>
  node && typeof node === 'object' && 'range' in node ? (node.range as [number, number, number] | undefined) : undefined;

/** The file position of a problem: the key that holds the bad value, or the nearest parent that exists. */
function locate(doc: Document, lines: LineCounter, dotted: string): { line: number; col: number } | undefined {
  const keys = (dotted.match(/[^.[\]]+/g) ?? []).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  for (let depth = keys.length; depth > 0; depth--) {
    const parent = depth === 1 ? doc.contents : doc.getIn(keys.slice(0, depth - 1), true);
    const last = keys[depth - 1];
    let range: [number, number, number] | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
      range = rangeOf(pair?.key);
    } else if (isSeq(parent) && typeof last === 'number') {
      range = rangeOf(parent.items[last]);
    }
    if (range) return lines.linePos(range[0]);
  }
  const top = rangeOf(doc.contents);
  return top ? lines.linePos(top[0]) : undefined;
}

/** Parses and validates a catalog text; every problem is reported at once with its path and line. */
export function parseCatalog(text: string, file: string, env: Record<string, string | undefined>): Catalog {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new CatalogError(file, [yamlSyntaxProblem(text, doc.errors, file)]);
  const problems: ConfigProblem[] = [];
  const raw = interpolate(doc.toJS() ?? {}, env, [], problems);
  const result = CatalogSchema.safeParse(raw);
  if (!result.success) {
    // A value left empty by a missing variable is reported once, as the missing variable.
    const unset = new Set(problems.map((p) => p.path));
    const knownKeys = (path: readonly PropertyKey[]) => knownKeysAt(CatalogSchema, path, raw);
    problems.push(...problemsFromZod(result.error, 'catalog', knownKeys).filter((p) => !unset.has(p.path)));
  }
  if (problems.length > 0) {
    const sourceLines = text.split(/\r?\n/);
    throw new CatalogError(
      file,
      problems.map((p) => {
        const at = locate(doc, lines, p.path);
        return at ? { ...p, location: `${file}:${at.line}:${at.col}`, excerpt: sourceExcerpt(sourceLines, at.line, at.col) } : p;
      }),
    );
  }
  return deepFreeze(result.data!);
}

export async function loadCatalog(file: string, env: Record<string, string | undefined>): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CatalogError(file, [
      {
        path: '(file)',
        message:
          code === 'ENOENT'
            ? 'does not exist; set SWITCHBOARD_CONFIG to your catalog, or copy examples/switchboard.yml to ./switchboard.yml'
            : `cannot be read (${code ?? String(error)})`,
      },
    ]);
  }
  return parseCatalog(text, file, env);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
