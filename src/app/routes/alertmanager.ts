import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Intake } from '../../alerts/intake.js';
import { parseNotificationInSlices } from '../../alerts/webhook-schema.js';
import { sendJson, type Handler } from '../http-server.js';

export interface AlertmanagerAuth {
  /** Alertmanager `http_config.authorization.credentials` (or `bearer_token`). */
  bearerToken?: string;
  /** Alertmanager `http_config.basic_auth`. */
  basic?: { username: string; password: string };
}

export interface AlertmanagerHandlerOptions {
  /** Stores the notification as pending; the notification processor applies it afterwards. */
  intake: Pick<Intake, 'accept'>;
  /** Called after a notification was stored (wakes this instance's processor). */
  onAccepted?: () => void;
  auth: AlertmanagerAuth;
  /** The largest body accepted (`ALERTMANAGER_MAX_BODY_BYTES`); default `DEFAULT_MAX_BODY_BYTES`. */
  maxBodyBytes?: number;
  /**
   * Past this, answer 503 rather than let Alertmanager time out; work still under way may commit,
   * and the retry is then a harmless duplicate.
   */
  answerWithinMs?: number;
  logger: Logger;
}

/** The `POST /alertmanager` handler; `authenticated` is false when no credentials are configured and anyone may post. */
export type AlertmanagerHandler = Handler & { readonly authenticated: boolean };

/**
 * A group sent with `max_alerts: 0` holds all its alerts, and a body refused with 413 is dropped by
 * Alertmanager: the limit is set well above what a large group sends (25 MiB is about 50,000
 * alerts of a few labels each).
 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
// Our own budget for an answer, well inside a 10 s webhook `timeout` on the Alertmanager side.
const DEFAULT_ANSWER_WITHIN_MS = 8_000;
const RETRY_AFTER_SECONDS = '30';
const REALM = 'realm="switchboard"';

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
// Both sides are SHA-256 digests: equal lengths, so neither the length nor the content leaks.
const sameDigest = (a: Buffer, b: Buffer) => timingSafeEqual(a, b);

function createAuthCheck(auth: AlertmanagerAuth): { required: boolean; challenges: string[]; check(header: string | undefined): boolean } {
  const bearer = auth.bearerToken ? digest(auth.bearerToken) : undefined;
  const basic = auth.basic ? { username: digest(auth.basic.username), password: digest(auth.basic.password) } : undefined;
  const challenges = [...(bearer ? [`Bearer ${REALM}`] : []), ...(basic ? [`Basic ${REALM}`] : [])];
  return {
    required: challenges.length > 0,
    challenges,
    check(header) {
      if (!bearer && !basic) return true;
      if (!header) return false;
      const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
      if (!match) return false;
      const scheme = match[1]!.toLowerCase();
      const credentials = match[2]!;
      if (scheme === 'bearer' && bearer) return sameDigest(digest(credentials), bearer);
      if (scheme === 'basic' && basic) {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) return false;
        // Both comparisons always run, so timing does not tell which part was wrong.
        const user = sameDigest(digest(decoded.slice(0, colon)), basic.username);
        const password = sameDigest(digest(decoded.slice(colon + 1)), basic.password);
        return user && password;
      }
      return false;
    },
  };
}

type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

/** Reads at most `max` bytes; past that it stops reading, so a huge body is never buffered. */
function readBody(req: IncomingMessage, max: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve) => {
    // With a declared length (Alertmanager always sends one) the chunks go straight into one
    // buffer of that size: a 25 MiB body costs 25 MiB, not the chunks and their concatenation.
    const into = Number.isFinite(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > max || (into && size + chunk.length > into.length)) {
        req.pause();
        return finish({ kind: 'too_large' });
      }
      if (into) chunk.copy(into, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => finish({ kind: 'ok', body: into ? into.subarray(0, size) : Buffer.concat(chunks, size) });
    const onError = () => finish({ kind: 'aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}

function within<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  return Promise.race([work.then((value) => ({ done: true as const, value })), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Receives Alertmanager webhook notifications (payload version 4) and stores each, in one
 * statement, before answering 200; the notification processor applies it. Alertmanager retries 5xx
 * answers and drops 4xx ones, so a notification that cannot be stored gets 503, and a malformed
 * or unauthenticated one gets a 4xx it will not repeat.
 */
export function createAlertmanagerHandler(options: AlertmanagerHandlerOptions): AlertmanagerHandler {
  const { intake, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const answerWithinMs = options.answerWithinMs ?? DEFAULT_ANSWER_WITHIN_MS;
  const auth = createAuthCheck(options.auth);
  const log = logger.child({ component: 'alertmanager' });

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!auth.check(req.headers.authorization)) {
      log.warn({ remote: req.socket.remoteAddress, scheme: req.headers.authorization?.split(' ')[0] }, 'alertmanager webhook refused: missing or wrong credentials');
      res.setHeader('www-authenticate', auth.challenges);
      return sendJson(res, 401, { error: 'unauthorized' });
    }

    const read = await readBody(req, maxBodyBytes);
    if (read.kind === 'aborted') return void res.destroy();
    if (read.kind === 'too_large') {
      log.warn(
        { maxBodyBytes, contentLength: req.headers['content-length'] },
        'alertmanager webhook refused: body too large; Alertmanager drops it. Raise ALERTMANAGER_MAX_BODY_BYTES, or set max_alerts in the webhook_config',
      );
      // The rest of the body stays unread; closing the connection is the only way to drop it.
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: 'payload_too_large', maxBytes: maxBodyBytes });
    }

    const sha256 = createHash('sha256').update(read.body).digest('hex');
    const text = read.body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return sendJson(res, 400, { error: 'invalid_json', problems: [`body is not JSON: ${(error as Error).message}`] });
    }
    const parsed = await parseNotificationInSlices(json);
    if (!parsed.ok) {
      log.warn({ problems: parsed.problems.slice(0, 20) }, 'alertmanager webhook refused: not a valid notification');
      return sendJson(res, 400, { error: 'invalid_notification', problems: parsed.problems });
    }

    const { notification } = parsed;
    if (notification.alerts.length === 0) {
      // Nothing about any alert: nothing to open or post, and nothing Alertmanager should retry.
      log.debug({ receiver: notification.receiver, groupKey: notification.groupKey }, 'alertmanager notification without alerts ignored');
      return sendJson(res, 200, { ok: true });
    }
    const work = intake.accept(notification, { json, sha256, text });
    try {
      const outcome = await within(work, answerWithinMs);
      if (!outcome.done) {
        work.catch((error: unknown) => log.error({ err: error, groupKey: notification.groupKey }, 'alertmanager notification failed after its answer'));
        log.error({ groupKey: notification.groupKey, answerWithinMs }, 'alertmanager notification not stored in time; asked for a retry');
        res.setHeader('retry-after', RETRY_AFTER_SECONDS);
        return sendJson(res, 503, { error: 'store_unavailable' });
      }
      options.onAccepted?.();
      log.debug({ receiver: notification.receiver, groupKey: notification.groupKey, alerts: notification.alerts.length }, 'alertmanager notification stored');
      return sendJson(res, 200, { ok: true });
    } catch (error) {
      log.error({ err: error, receiver: notification.receiver, groupKey: notification.groupKey }, 'alertmanager notification not stored; asked for a retry');
      res.setHeader('retry-after', RETRY_AFTER_SECONDS);
      return sendJson(res, 503, { error: 'store_unavailable' });
    }
  };
  return Object.assign(handler, { authenticated: auth.required });
}
