import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: Handler;
}

// Alertmanager keeps connections open for up to 5 minutes; closing them sooner races its next POST.
const KEEP_ALIVE_MS = 6 * 60_000;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The one HTTP server of a Switchboard instance: Slack, Alertmanager and operations routes. */
export function createHttpServer(options: { routes: Route[]; metrics: Metrics; logger: Logger }): Server {
  const { routes, metrics, logger } = options;
  const server = createServer(async (req, res) => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find((r) => r.path === path);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe({ method: req.method ?? 'GET', route: route?.path ?? 'unmatched', status: String(res.statusCode) }, seconds);
    });
    if (!route) return sendJson(res, 404, { error: 'not_found' });
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      return sendJson(res, 405, { error: 'method_not_allowed', allow: route.method });
    }
    try {
      await route.handler(req, res);
    } catch (error) {
      logger.error({ err: error, path }, 'request handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' });
      else res.end();
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 5_000;
  server.requestTimeout = 60_000;
  return server;
}
