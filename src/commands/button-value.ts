import { z } from 'zod';

/**
 * What a Switchboard button carries. Slack keeps buttons in old messages for months, so the
 * shape is versioned, small (Slack caps a value at 2,000 characters) and holds ids only.
 */
const CatalogRef = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);

export const ButtonValueV1 = z
  .object({
    v: z.literal(1),
    /** Incident id, when the button sits on an incident message. */
    i: z.string().uuid().optional(),
    /** Action input: catalog ids only. */
    in: z.record(z.string().regex(/^[a-z][a-zA-Z]{0,31}$/), CatalogRef).default({}),
  })
  .strict();

export type ButtonValue = z.output<typeof ButtonValueV1>;

/** Every Switchboard button's action_id is `act:<action id>`; ids never change once shipped. */
export const actionIdFor = (id: string) => `act:${id}`;
export const actionFromActionId = (actionId: string): string | undefined => (actionId.startsWith('act:') ? actionId.slice(4) : undefined);

export function encodeButtonValue(value: Omit<ButtonValue, 'v'> & { in?: Record<string, string> }): string {
  const text = JSON.stringify({ v: 1, ...(value.i ? { i: value.i } : {}), in: value.in ?? {} });
  if (text.length > 2_000) throw new Error(`button value of ${text.length} characters exceeds Slack's 2,000`);
  return text;
}

/** Parses a value from Slack; anything tampered or unknown is refused, never half-used. */
export function decodeButtonValue(text: string | undefined): ButtonValue | undefined {
  if (!text || text.length > 2_000) return undefined;
  try {
    const parsed = ButtonValueV1.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
