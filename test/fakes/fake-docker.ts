import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A Docker Engine API fake for the two operations Switchboard uses, answering as the
 * documented API does (docs.docker.com/reference/api/engine): `GET /containers/json`
 * with `all` and `filters`, and `POST /containers/{id}/restart` (204, or 404/500 with
 * `{"message": ...}`). Every request is recorded so tests assert the exact calls.
 */
export interface FakeContainer {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: 'running' | 'exited' | 'paused';
  /** Restarts so far; the fake's only state change. */
  restarts?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeDocker {
  /** "http://127.0.0.1:1234" or "unix:///tmp/…/docker.sock" */
  host: string;
  requests: RecordedRequest[];
  containers: FakeContainer[];
  /** Container name or id → the message a 500 answer carries. */
  failRestart: Map<string, string>;
  /** Delay before answering a restart, to test timeouts. */
  restartDelayMs: number;
  close(): Promise<void>;
}

export async function startFakeDocker(options: { containers: FakeContainer[]; socketPath?: string }): Promise<FakeDocker> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const fake: FakeDocker = {
    host: '',
    requests: [],
    containers: options.containers,
    failRestart: new Map(),
    restartDelayMs: 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.43' }).end(`${JSON.stringify(body)}\n`);
  };

  /** Docker resolves a full id, a unique id prefix, or a name (with or without the leading "/"). */
  const find = (ref: string) =>
    fake.containers.find((c) => c.Id === ref || c.Names.includes(`/${ref.replace(/^\//, '')}`)) ??
    (ref.length >= 1 ? fake.containers.filter((c) => c.Id.startsWith(ref)) : []).at(0);

  const list = (query: URLSearchParams, res: ServerResponse) => {
    let labels: string[] = [];
    const filters = query.get('filters');
    if (filters !== null) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(filters);
      } catch {
        return json(res, 400, { message: 'invalid filter' });
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return json(res, 400, { message: 'invalid filter' });
      for (const [key, value] of Object.entries(parsed)) {
        if (key !== 'label') return json(res, 400, { message: `invalid filter '${key}'` });
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return json(res, 400, { message: 'invalid filter' });
        labels = value;
      }
    }
    const all = query.get('all') === '1' || query.get('all') === 'true';
    const matches = fake.containers.filter(
      (c) =>
        (all || c.State === 'running') &&
        labels.every((label) => {
          const [key, ...rest] = label.split('=');
          return rest.length === 0 ? key! in c.Labels : c.Labels[key!] === rest.join('=');
        }),
    );
    json(
      res,
      200,
      matches.map((c) => ({ Id: c.Id, Names: c.Names, Image: 'example/app:latest', State: c.State, Status: 'Up 2 hours', Labels: c.Labels })),
    );
  };

  const restart = (ref: string, query: URLSearchParams, res: ServerResponse) => {
    const t = query.get('t');
    if (t !== null && !/^-?\d+$/.test(t)) return json(res, 400, { message: `invalid value for t: ${t}` });
    const container = find(ref);
    if (!container) return json(res, 404, { message: `No such container: ${ref}` });
    const answer = () => {
      const failure = fake.failRestart.get(ref) ?? container.Names.map((n) => fake.failRestart.get(n.slice(1))).find(Boolean);
      if (failure) return json(res, 500, { message: failure });
      container.restarts = (container.restarts ?? 0) + 1;
      container.State = 'running';
      res.writeHead(204).end();
    };
    if (fake.restartDelayMs > 0) {
      const timer = setTimeout(answer, fake.restartDelayMs);
      timers.add(timer);
    } else answer();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://docker');
      fake.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const restartMatch = /^\/containers\/([^/]+)\/restart$/.exec(url.pathname);
      if (req.method === 'GET' && url.pathname === '/containers/json') return list(url.searchParams, res);
      if (req.method === 'POST' && restartMatch) return restart(decodeURIComponent(restartMatch[1]!), url.searchParams, res);
      json(res, 404, { message: 'page not found' });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (options.socketPath) {
    await new Promise<void>((resolve) => server.listen(options.socketPath, resolve));
    fake.host = `unix://${options.socketPath}`;
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return fake;
}
