import { createHmac, timingSafeEqual } from 'node:crypto';
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
    /** The server's signature over the action id and the rest of the value (see `createButtonSigner`). */
    s: z.string().regex(/^[A-Za-z0-9_-]{22}$/).optional(),
  })
  .strict();

export type ButtonValue = z.output<typeof ButtonValueV1>;

/** Every Switchboard button's action_id is `act:<action id>`; ids never change once shipped. */
export const actionIdFor = (id: string) => `act:${id}`;
export const actionFromActionId = (actionId: string): string | undefined => (actionId.startsWith('act:') ? actionId.slice(4) : undefined);

export function encodeButtonValue(value: Omit<ButtonValue, 'v' | 's'> & { in?: Record<string, string> }): string {
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

/** What a button's signature says: made by this Switchboard, made before buttons were signed, or not made by it. */
export type ButtonOrigin = 'signed' | 'unsigned' | 'forged';

/**
 * Signs and checks button values with a key only the server knows (kept in the store, shared by
 * every replica; not the Slack signing secret). The signature covers the action id and the
 * whole value, so neither the incident, the service nor the action of a button can be changed.
 */
export function createButtonSigner(key: Buffer) {
  const mac = (actionId: string, unsigned: string) => createHmac('sha256', key).update(`${actionId}\n${unsigned}`).digest().subarray(0, 16).toString('base64url');
  return {
    /** The value with its signature; a value that is not a Switchboard button value is left as it is. */
    sign(actionId: string, value: string): string {
      const decoded = decodeButtonValue(value);
      if (!decoded) return value;
      const unsigned = encodeButtonValue({ ...(decoded.i ? { i: decoded.i } : {}), in: decoded.in });
      return `${unsigned.slice(0, -1)},"s":"${mac(actionId, unsigned)}"}`;
    },
    check(actionId: string, value: ButtonValue): ButtonOrigin {
      if (value.s === undefined) return 'unsigned';
      const expected = Buffer.from(mac(actionId, encodeButtonValue({ ...(value.i ? { i: value.i } : {}), in: value.in })));
      const given = Buffer.from(value.s);
      return given.length === expected.length && timingSafeEqual(given, expected) ? 'signed' : 'forged';
    },
  };
}

export type ButtonSigner = ReturnType<typeof createButtonSigner>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Switchboard's own buttons: runbook actions and the incident's buttons. Confirmations carry a one-use id of their own. */
const SIGNED_ACTION = /^(act|inc):/;

/**
 * The blocks with every Switchboard button value signed. Renderers stay pure and unsigned; this
 * runs at the Slack edge, on what is about to be sent.
 */
export function signButtons<T>(blocks: T, signer: ButtonSigner): T {
  if (!Array.isArray(blocks)) return blocks;
  const signElement = (element: unknown): unknown =>
    isRecord(element) && element.type === 'button' && typeof element.action_id === 'string' && SIGNED_ACTION.test(element.action_id) && typeof element.value === 'string'
      ? { ...element, value: signer.sign(element.action_id, element.value) }
      : element;
  return blocks.map((block: unknown) => {
    if (!isRecord(block)) return block;
    if (Array.isArray(block.elements) && block.type === 'actions') return { ...block, elements: block.elements.map(signElement) };
    if (block.accessory !== undefined) return { ...block, accessory: signElement(block.accessory) };
    return block;
  }) as T;
}
