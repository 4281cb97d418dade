import type { z } from 'zod';

/** The parts of a zod 4 definition this walk reads; zod keeps them on `_zod.def`. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Wrappers that do not change which keys an object may have. */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  if (def.type === 'lazy' && def.getter) return unwrap(def.getter());
  return schema;
}

/** The branches of a union that fit `value`: by its discriminator when the union has one. */
function branches(def: Def, value: unknown): z.ZodType[] {
  const options = def.options ?? [];
  const tag = def.discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
  if (tag === undefined) return options;
  const matching = options.filter((option) => {
    const field = defOf(unwrap(option)).shape?.[def.discriminator!];
    return field !== undefined && (defOf(unwrap(field)).values ?? []).includes(tag);
  });
  return matching.length > 0 ? matching : options;
}

/**
 * The keys an object may have at `path` of the catalog, read from its schema, so an unknown key
 * can be answered with the nearest known one. `raw` is the parsed file: it picks the branch of a
 * discriminated union (a health check of `kind: http` has `url`, one of `kind: tcp` has `host`).
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  const found = new Set<string>();
  const walk = (current: z.ZodType, rest: readonly PropertyKey[], value: unknown) => {
    const def = defOf(unwrap(current));
    if (def.type === 'union') {
      for (const option of branches(def, value)) walk(option, rest, value);
      return;
    }
    const child = (key: PropertyKey) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined);
    if (rest.length === 0) {
      for (const key of Object.keys(def.type === 'object' ? (def.shape ?? {}) : {})) found.add(key);
      return;
    }
    const [head, ...tail] = rest;
    if (def.type === 'object' && def.shape && typeof head === 'string' && def.shape[head]) walk(def.shape[head], tail, child(head));
    else if (def.type === 'record' && def.valueType) walk(def.valueType, tail, child(head!));
    else if (def.type === 'array' && def.element) walk(def.element, tail, child(head!));
  };
  walk(schema, path, raw);
  return [...found];
}
