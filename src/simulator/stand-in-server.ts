import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { MODES, type Mode } from './seed-systems.js';
import type { Role } from './stand-in-roles.js';

/** Longer than any health check's default timeout (5 s), so a slow stand-in reads as timed out. */
export const SLOW_DELAY_MS = 6_000;
export const CONTROL_PATH = '/_simulator';

const readBody = async (req: IncomingMessage): Promise<string> => {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 4_096) break;
  }
  return text;
};

/**
 * One stand-in's HTTP server: its role's routes (a key ending in `/` is a prefix), `/metrics`,
 * and the control endpoint `/_simulator` (GET its mode; POST `{"mode":"unhealthy"}` to change it,
 * or `{"crash":true}` to exit, as a crashed service would).
 */
export function createStandInServer(options: { role: Role; registry: Registry; mode: { get(): Mode; set(mode: Mode): void }; onCrash: () => void }): Server {
  const { role, registry, mode } = options;
  return createServer(async (req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (path === CONTROL_PATH) {
        if (req.method === 'POST') {
          const body = JSON.parse((await readBody(req)) || '{}') as { mode?: unknown; crash?: unknown };
          if (body.crash === true) {
            send(200, { crashing: true });
            return setTimeout(options.onCrash, 50).unref();
          }
          if (!MODES.includes(body.mode as Mode)) return send(400, { error: `mode must be one of ${MODES.join(', ')}` });
          mode.set(body.mode as Mode);
        }
        return send(200, { mode: mode.get(), pid: process.pid });
      }
      if (path === '/metrics') return send(200, await registry.metrics(), registry.contentType);
      const exact = role.routes[path];
      const prefix = Object.keys(role.routes).find((key) => key.endsWith('/') && path.startsWith(key));
      const handler = exact ? () => exact(path) : prefix ? () => role.routes[prefix]!(path.slice(prefix.length - 1)) : undefined;
      if (!handler) return send(404, { detail: 'Not Found' });
      if (mode.get() === 'slow') await new Promise((resolve) => setTimeout(resolve, SLOW_DELAY_MS));
      const answer = await handler();
      send(answer.status, answer.body);
    } catch (error) {
      send(500, { error: error instanceof Error ? error.message : 'internal error' });
    }
  });
}
