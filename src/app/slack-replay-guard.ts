import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SeenRequestsRepository } from '../store/seen-requests-repository.js';
import { sendJson, type Handler } from './http-server.js';
import { MAX_SKEW_SECONDS } from './slack-timestamp-guard.js';

// Slack retries an event up to three times over about an hour (at once, after 1 and after 5 minutes).
const EVENT_RETRY_WINDOW_MS = 60 * 60_000;
const CLEANUP_EVERY_MS = 60_000;

/** Bolt reads the body from here when it is set, instead of from the stream this guard consumed. */
type BufferedRequest = IncomingMessage & { rawBody?: Buffer };

export interface ReplayGuardOptions {
  signingSecret: string;
  seen: SeenRequestsRepository;
  logger: Logger;
  /** The most a body may hold; the route refuses longer ones by Content-Length before this runs. */
  bodyLimit: number;
  now?: () => number;
}

/** True when `signature` is Slack's `v0=` HMAC of the request, compared in constant time. */
export function isSlackSignature(signingSecret: string, timestamp: string, body: Buffer, signature: string): boolean {
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Refuses a correctly signed Slack request that was already accepted: the signature covers the
 * timestamp and the body, so a request replayed byte for byte within the five minutes its
 * timestamp stays valid has the same signature, and the store (shared by every replica)
 * remembers it until then. Slack's own retries of an Events API delivery are signed afresh; they
 * carry the same `event_id`, and one already accepted is acknowledged without running again.
 * Requests without a valid signature pass through untouched, for Bolt to refuse (or to answer an
 * `ssl_check`), so nothing unsigned ever writes to the store.
 */
export function guardSlackReplay(next: Handler, options: ReplayGuardOptions): Handler {
  const { seen, logger } = options;
  const now = options.now ?? Date.now;
  let lastCleanup = 0;

  const cleanup = () => {
    if (now() - lastCleanup < CLEANUP_EVERY_MS) return;
    lastCleanup = now();
    seen.forgetExpired(new Date(now())).catch((error: unknown) => logger.warn({ err: error }, 'could not delete expired Slack request records; they are retried in a minute'));
  };

  return async (req: BufferedRequest, res) => {
    const body = await readAll(req, options.bodyLimit);
    if (!body) return void res.destroy();
    req.rawBody = body;
    const signature = req.headers['x-slack-signature'];
    const timestamp = req.headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof timestamp !== 'string' || !isSlackSignature(options.signingSecret, timestamp, body, signature)) return next(req, res);

    const at = new Date(now());
    const retry = req.headers['x-slack-retry-num'];
    const eventId = eventIdOf(req, body);
    try {
      // The timestamp guard accepts stamps up to five minutes either side of now: remember the signature as long.
      const until = new Date((Number(timestamp) + MAX_SKEW_SECONDS) * 1000 + 60_000);
      if (!(await seen.remember(`sig:${signature}`, until, at))) {
        logger.warn({ remote: req.socket.remoteAddress, timestamp, retry }, 'refused a replayed Slack request: this exact signed request was already accepted');
        res.writeHead(401).end();
        return;
      }
      if (eventId && !(await seen.remember(`event:${eventId}`, new Date(at.getTime() + EVENT_RETRY_WINDOW_MS), at))) {
        logger.info({ eventId, retry, reason: req.headers['x-slack-retry-reason'] }, 'Slack retried an event already accepted: acknowledged, not run again');
        return sendJson(res, 200, { ok: true });
      }
    } catch (error) {
      logger.error({ err: error }, 'could not check a Slack request against the ones already accepted (is the store reachable?); answered 503');
      return sendJson(res, 503, { error: 'store_unavailable' });
    } finally {
      cleanup();
    }
    return next(req, res);
  };
}

/** The `event_id` of an Events API delivery (a JSON body); undefined for commands and interactions. */
function eventIdOf(req: IncomingMessage, body: Buffer): string | undefined {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { event_id?: unknown }).event_id : undefined;
    return typeof id === 'string' && id.length <= 200 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The whole body, or undefined when the client went away or sent more than `limit`. */
function readAll(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', () => resolve(undefined));
    req.on('aborted', () => resolve(undefined));
  });
}
