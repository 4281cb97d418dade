import { z } from 'zod';

/** An object that rejects unknown keys and names the allowed ones, so a typo such as `urll` is easy to fix. */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${allowed})`
        : undefined,
  });
}

/** A URL limited to the given schemes. The message never echoes the value: it may hold a password. */
export function urlWith(protocols: readonly string[], hint: string) {
  return z.string().refine(
    (text) => {
      try {
        return protocols.includes(new URL(text).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a valid ${hint} URL` },
  );
}

/**
 * A superRefine for a list whose items are told apart by name; `what` names an item in the
 * message: `uniqueNames('backup')` → `duplicate backup name "nightly"`.
 */
export function uniqueNames(what: string) {
  return <Item extends { name: string }>(items: Item[], ctx: z.RefinementCtx<Item[]>) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item.name)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} name "${item.name}"`, path: [index, 'name'] });
      seen.add(item.name);
    });
  };
}
