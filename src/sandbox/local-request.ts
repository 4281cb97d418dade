import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Headers a reverse proxy adds: a request carrying one came from somewhere else, whatever its peer address says. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-server', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'x-original-forwarded-for', 'via'];

/**
 * Why a request may not use the sandbox, or undefined when it may. The sandbox signs requests on
 * the caller's behalf, so only this machine may use it: the peer must be loopback, the Host a
 * loopback name (no DNS rebinding), and a browser's cross-site request is refused.
 */
export function refuseNonLocal(req: IncomingMessage, options: { navigation?: boolean } = {}): string | undefined {
  if (!LOOPBACK_ADDRESSES.has(req.socket.remoteAddress ?? '')) return 'the sandbox answers only requests from this machine (open it at http://localhost:<port>/sandbox)';
  const proxied = PROXY_HEADERS.find((name) => req.headers[name] !== undefined);
  if (proxied) return `the sandbox is not served through a proxy (the request carries ${proxied}); open it on the machine that runs Switchboard`;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!LOOPBACK_HOSTS.has(host)) return 'open the sandbox as http://localhost:<port>/sandbox';
  // Opening the page from a link elsewhere is fine; it does nothing by itself.
  if (options.navigation && req.method === 'GET') return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross-site requests are refused';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return 'cross-origin requests are refused';
  return undefined;
}

/** Compares a presented sandbox token with the real one in constant time (both hashed first, so lengths match). */
export function isSandboxToken(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** The JSON body of a request, at most `limit` bytes; throws with a message for the caller otherwise. */
export async function readJsonBody(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new Error('send application/json');
  if (Number(req.headers['content-length']) > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

/** A body over the limit: the rest stays unread, so its connection must be closed with the answer. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body too large (at most ${limit} bytes)`);
  }
}
