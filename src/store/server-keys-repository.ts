import { randomBytes } from 'node:crypto';
import type { Queryable } from './db.js';

/**
 * A key Switchboard generates once and keeps in the store, so every replica and every restart
 * uses the same one. Whichever instance inserts first wins; the others read its key.
 */
export async function serverKey(db: Queryable, name: string): Promise<Buffer> {
  await db.query('INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32)]);
  const { rows } = await db.query<{ secret: Buffer | Uint8Array }>('SELECT secret FROM server_keys WHERE name = $1', [name]);
  if (!rows[0]) throw new Error(`server key ${name} missing right after it was stored`);
  return Buffer.from(rows[0].secret);
}
