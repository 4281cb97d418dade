// PostgreSQL refuses U+0000 and unpaired UTF-16 surrogates in text and jsonb. A notification it
// refuses would be answered 503 and retried by Alertmanager forever, so such characters become
// U+FFFD before they reach the store.

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what it looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// The same characters as JSON escapes (`\u0000`, `\ud83d` alone, ...), or an escaped backslash
// before a `u`: a cheap test that lets almost every body be stored as it arrived.
const MAYBE_UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

export function storableText(text: string): string {
  UNSTORABLE.lastIndex = 0;
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE, '\uFFFD') : text;
}

/** A JSON value whose strings, keys included, PostgreSQL accepts: the value itself when it already is, else a copy. */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) {
    const items = value.map(storable);
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  const entries = Object.entries(value);
  const cleaned = entries.map(([k, v]) => [storableText(k), storable(v)] as const);
  if (!cleaned.some(([k, v], i) => k !== entries[i]![0] || v !== entries[i]![1])) return value;
  // A label set keeps its null prototype (see webhook-schema's labelSet).
  const copy = Object.getPrototypeOf(value) === null ? (Object.create(null) as Record<string, unknown>) : {};
  for (const [k, v] of cleaned) copy[k] = v;
  return copy as T;
}

/** JSON text for a jsonb parameter. */
export function toJsonb(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? storableText(v) : v));
}

/** The body as it arrived when PostgreSQL accepts it as jsonb, else `json` re-serialized with the offending characters replaced. */
export function storableJson(text: string, json: unknown): string {
  return MAYBE_UNSTORABLE_ESCAPE.test(text) ? toJsonb(storable(json)) : text;
}
