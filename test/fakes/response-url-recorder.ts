/**
 * A local stand-in for the `response_url` that Slack puts in slash command and interaction
 * payloads (https://hooks.slack.com/commands/…, /actions/…): it takes POSTed JSON and answers `ok`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedResponse {
  path: string;
  /** Parsed JSON, or the raw text when the body was not JSON. */
  body: any;
  at: number;
  contentType?: string;
}

export interface ResponseUrlRecorder {
  /** A response_url to put in a payload; posts to it are recorded under path `/commands/<id>`. */
  url(id?: string): string;
  received: ReceivedResponse[];
  /** Resolves with the first matching post, past or future; rejects after timeoutMs (default 3000) listing what arrived. */
  waitFor(pred: (r: ReceivedResponse) => boolean, timeoutMs?: number): Promise<ReceivedResponse>;
  close(): Promise<void>;
}

export async function startResponseUrlRecorder(): Promise<ResponseUrlRecorder> {
  const received: ReceivedResponse[] = [];
  const waiters = new Set<{ pred: (r: ReceivedResponse) => boolean; done: (r?: ReceivedResponse, e?: Error) => void }>();
  let counter = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'text/plain' }).end('method_not_allowed');
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const entry: ReceivedResponse = {
        path: new URL(req.url ?? '/', 'http://recorder').pathname,
        body,
        at: Date.now(),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      };
      received.push(entry);
      for (const w of [...waiters]) {
        if (w.pred(entry)) {
          waiters.delete(w);
          w.done(entry);
        }
      }
      if (typeof body !== 'object' || body === null) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    url(id) {
      counter += 1;
      return `${base}/commands/${encodeURIComponent(id ?? `r${counter}`)}`;
    },
    received,
    waitFor(pred, timeoutMs = 3000) {
      const past = received.find(pred);
      if (past) return Promise.resolve(past);
      return new Promise<ReceivedResponse>((resolve, reject) => {
        const waiter = {
          pred,
          done: (r?: ReceivedResponse, e?: Error) => {
            clearTimeout(timer);
            if (r) resolve(r);
            else reject(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const recent = received.slice(-10).map((r) => `  ${r.path} ${JSON.stringify(r.body).slice(0, 120)}`);
          reject(
            new Error(
              `response_url recorder: no matching post within ${timeoutMs} ms. ` +
                `Received (${received.length} total):\n${recent.join('\n') || '  (none)'}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      for (const w of [...waiters]) {
        waiters.delete(w);
        w.done(undefined, new Error('response_url recorder closed while a waitFor was pending'));
      }
      return new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
