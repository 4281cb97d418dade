import type { Handler } from './http-server.js';

export const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Rejects Slack requests stamped more than five minutes from now in either direction.
 * Bolt refuses old timestamps but accepts future ones, which would let a captured request
 * signed with a future stamp be replayed for as long as the attacker chose.
 */
export function guardSlackTimestamp(next: Handler, now: () => number = Date.now): Handler {
  return (req, res) => {
    const header = req.headers['x-slack-request-timestamp'];
    if (typeof header === 'string') {
      const stamp = Number(header);
      if (!Number.isFinite(stamp) || Math.abs(now() / 1000 - stamp) > MAX_SKEW_SECONDS) {
        req.resume();
        res.writeHead(401).end();
        return;
      }
    }
    return next(req, res);
  };
}
