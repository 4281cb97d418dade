import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A Kubernetes API server fake for apps/v1 workloads: GET and PATCH of
 * `/apis/apps/v1/namespaces/{ns}/{deployments|statefulsets|daemonsets}/{name}`, with bearer
 * token authentication, per-verb authorization and `Status` error bodies as the real API
 * server writes them. PATCH accepts only the patch media types the API server does and merges
 * a strategic merge patch into the stored object (maps merge; enough for annotations).
 */
export type Plural = 'deployments' | 'statefulsets' | 'daemonsets';
export type Verb = 'get' | 'patch';

export interface RecordedKubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeKubernetes {
  /** "http://127.0.0.1:1234" or "https://127.0.0.1:1234" */
  server: string;
  requests: RecordedKubeRequest[];
  /** Objects by "namespace/plural/name". */
  objects: Map<string, Record<string, unknown>>;
  /** Verbs the token may use; the service account of the 403 message is `user`. */
  allowed: Set<Verb>;
  token: string;
  user: string;
  close(): Promise<void>;
}

const KIND: Record<Plural, string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

export function workload(plural: Plural, namespace: string, name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: KIND[plural],
    metadata: { name, namespace, generation: 1, uid: `uid-${name}` },
    spec: { replicas: 2, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } }, ...spec },
  };
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (value && typeof value === 'object' && !Array.isArray(value) && target[key] && typeof target[key] === 'object') {
      merge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
  return target;
}

export async function startFakeKubernetes(options: {
  objects: Record<string, unknown>[];
  token: string;
  user?: string;
  tls?: { key: Buffer; cert: Buffer };
}): Promise<FakeKubernetes> {
  const sockets = new Set<Socket>();
  const objects = new Map<string, Record<string, unknown>>();
  for (const object of options.objects) {
    const meta = object.metadata as { namespace: string; name: string };
    const plural = (Object.keys(KIND) as Plural[]).find((p) => KIND[p] === object.kind);
    objects.set(`${meta.namespace}/${plural}/${meta.name}`, structuredClone(object));
  }
  const fake: FakeKubernetes = {
    server: '',
    requests: [],
    objects,
    allowed: new Set<Verb>(['get', 'patch']),
    token: options.token,
    user: options.user ?? 'system:serviceaccount:ops:switchboard',
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json', 'audit-id': 'fake' }).end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://kubernetes');
    fake.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${fake.token}`) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));

    const match = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets)\/([^/]+)$/.exec(url.pathname);
    if (!match) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    const [, namespace, plural, name] = match as unknown as [string, string, Plural, string];
    const verb: Verb | undefined = req.method === 'GET' ? 'get' : req.method === 'PATCH' ? 'patch' : undefined;
    if (!verb) return send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    const details = { name, group: 'apps', kind: plural };
    if (!fake.allowed.has(verb)) {
      return send(
        res,
        403,
        status(
          403,
          'Forbidden',
          `${plural}.apps "${name}" is forbidden: User "${fake.user}" cannot ${verb} resource "${plural}" in API group "apps" in the namespace "${namespace}"`,
          details,
        ),
      );
    }
    const object = objects.get(`${namespace}/${plural}/${name}`);
    if (!object) return send(res, 404, status(404, 'NotFound', `${plural}.apps "${name}" not found`, details));
    if (verb === 'get') return send(res, 200, object);

    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (!PATCH_TYPES.includes(type)) {
      return send(
        res,
        415,
        status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`),
      );
    }
    if (type !== 'application/strategic-merge-patch+json') {
      return send(res, 415, status(415, 'UnsupportedMediaType', `this fake only applies strategic merge patches, not ${type}`));
    }
    let patch: unknown;
    try {
      patch = JSON.parse(body);
    } catch {
      return send(res, 400, status(400, 'BadRequest', 'error decoding patch: invalid character'));
    }
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
      return send(res, 422, status(422, 'Invalid', `${KIND[plural]}.apps "${name}" is invalid: patch must be an object`, details));
    }
    merge(object, patch as Record<string, unknown>);
    const meta = object.metadata as { generation: number };
    meta.generation += 1;
    send(res, 200, object);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.server = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
