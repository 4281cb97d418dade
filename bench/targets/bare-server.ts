/**
 * The baseline: a bare node:http server that reads the body, parses the same JSON and answers 200
 * with a small JSON body, with the same keep-alive settings as Switchboard's server. No schema,
 * no store, no logging: what receiving a webhook costs before any of Switchboard's work.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveTarget } from '../lib/target.js';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let status = 200;
    let answer = '{"ok":true}';
    try {
      const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: unknown[] };
      if (!Array.isArray(json.alerts)) throw new Error('no alerts');
    } catch {
      status = 400;
      answer = '{"error":"invalid_json"}';
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 6 * 60_000;
server.headersTimeout = 6 * 60_000 + 5_000;

serveTarget({
  async start() {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  },
  async stop() {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  },
});
