import type { ServerResponse } from 'node:http';
import { sendJson, type Handler } from './http-server.js';

/**
 * Answers a request whose body will not be read and closes its connection: the unread rest of
 * the body would otherwise sit in the socket, and a keep-alive client reusing it would wait forever.
 */
export function refuseAndClose(res: ServerResponse, status: 411 | 413, body: Record<string, unknown>): void {
  res.setHeader('connection', 'close');
  sendJson(res, status, body);
}

/**
 * Refuses a body over `limitBytes` from its Content-Length, before `next` reads a byte of it.
 * A body without a Content-Length (chunked) is refused too: Slack always sends the length, and
 * without it the limit could only be found after reading.
 */
export function capBody(next: Handler, limitBytes: number): Handler {
  return (req, res) => {
    const header = req.headers['content-length'];
    if (header === undefined) return refuseAndClose(res, 411, { error: 'length_required' });
    const declared = Number(header);
    if (!Number.isSafeInteger(declared) || declared < 0) return refuseAndClose(res, 411, { error: 'length_required' });
    if (declared > limitBytes) return refuseAndClose(res, 413, { error: 'payload_too_large', maxBytes: limitBytes });
    return next(req, res);
  };
}
