import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { IntegrationError } from '../integration-error.js';
import type { HttpEndpoint } from '../restart/http-request.js';

/** How to reach and authenticate to one Kubernetes API server. */
export interface KubeConnection {
  endpoint: HttpEndpoint;
  /** "https://10.0.0.1:6443", for messages; never holds credentials. */
  server: string;
  /** Path of the API below the server origin: "" or a proxy prefix such as "/k8s/clusters/c-1". */
  pathPrefix: string;
  /** The Authorization header, read when needed: service-account tokens are rotated on disk. */
  authorization(): Promise<string | undefined>;
  /** "the service account" or "kubeconfig user ops", for messages. */
  who: string;
}

export interface InClusterSources {
  /** KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT come from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder holding `token` and `ca.crt`. */
  serviceAccountDir: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The API server in-cluster: the service host and port Kubernetes puts into every pod, the
 * mounted service-account token and the cluster CA.
 */
export async function inClusterConnection(sources: InClusterSources): Promise<KubeConnection> {
  const host = sources.env.KUBERNETES_SERVICE_HOST;
  const port = sources.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new IntegrationError('No kubeconfig is set and Switchboard is not running inside Kubernetes (KUBERNETES_SERVICE_HOST/PORT are not set)', {
      hint: 'Set restart.kubeconfig in the catalog, or run the bot in the cluster with a service account.',
    });
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const tokenFile = join(sources.serviceAccountDir, 'token');
  const ca = await readOrExplain(join(sources.serviceAccountDir, 'ca.crt'), 'the cluster CA of the service account');
  await readOrExplain(tokenFile, 'the service-account token');
  return {
    endpoint: { baseUrl: new URL(server), tls: { ca } },
    server,
    pathPrefix: '',
    who: 'the service account',
    authorization: async () => `Bearer ${(await readOrExplain(tokenFile, 'the service-account token')).toString('utf8').trim()}`,
  };
}

const Cluster = z.looseObject({
  server: z.string(),
  'certificate-authority-data': z.string().optional(),
  'certificate-authority': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
  'tls-server-name': z.string().optional(),
});

const User = z.looseObject({
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  'client-certificate-data': z.string().optional(),
  'client-key-data': z.string().optional(),
  'client-certificate': z.string().optional(),
  'client-key': z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  exec: z.unknown().optional(),
  'auth-provider': z.unknown().optional(),
});

const KubeConfigFile = z.looseObject({
  'current-context': z.string().optional(),
  clusters: z.array(z.looseObject({ name: z.string(), cluster: Cluster })).nullish(),
  contexts: z.array(z.looseObject({ name: z.string(), context: z.looseObject({ cluster: z.string(), user: z.string().optional() }) })).nullish(),
  users: z.array(z.looseObject({ name: z.string(), user: User.nullish() })).nullish(),
});

/** Reads a kubeconfig file as kubectl does for one context (current-context unless `context` is given). */
export async function kubeconfigConnection(path: string, context: string | undefined, home = homedir()): Promise<KubeConnection> {
  const file = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : resolve(path);
  const text = (await readOrExplain(file, 'the kubeconfig')).toString('utf8');
  const fail = (problem: string, hint?: string): never => {
    throw new IntegrationError(`kubeconfig ${path}: ${problem}`, hint ? { hint } : {});
  };
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    // The YAML parser quotes the offending line, which may hold a token; keep only its position.
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    fail(`is not valid YAML${line ? ` (line ${line})` : ''}`);
  }
  const parsed = KubeConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`is not a kubeconfig (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'})`);
  }
  const config = parsed.data;
  const contextName = context ?? config['current-context'] ?? fail('has no current-context; set restart.context');
  const contexts = config.contexts ?? [];
  const chosen =
    contexts.find((entry) => entry.name === contextName)?.context ??
    fail(`has no context "${contextName}" (contexts: ${contexts.map((entry) => entry.name).join(', ') || 'none'})`);
  const cluster =
    (config.clusters ?? []).find((entry) => entry.name === chosen.cluster)?.cluster ??
    fail(`context "${contextName}" names cluster "${chosen.cluster}", which is not in clusters`);
  const userEntry = chosen.user === undefined ? undefined : (config.users ?? []).find((entry) => entry.name === chosen.user);
  if (chosen.user !== undefined && !userEntry) fail(`context "${contextName}" names user "${chosen.user}", which is not in users`);
  const user = userEntry?.user ?? {};
  const base = dirname(file);
  const relative = (p: string) => (isAbsolute(p) ? p : join(base, p));

  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    return fail(`cluster "${chosen.cluster}" has a server that is not a URL`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') fail(`cluster "${chosen.cluster}" server must be https:// (or http://)`);

  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    fail(`user "${chosen.user}" signs in through an exec or auth-provider plugin, which Switchboard does not run`, 'Give Switchboard a service-account token instead (user.token or user.tokenFile).');
  }
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64')
    : cluster['certificate-authority']
      ? await readOrExplain(relative(cluster['certificate-authority']), 'the cluster CA named in the kubeconfig')
      : undefined;
  const cert = user['client-certificate-data']
    ? Buffer.from(user['client-certificate-data'], 'base64')
    : user['client-certificate']
      ? await readOrExplain(relative(user['client-certificate']), 'the client certificate named in the kubeconfig')
      : undefined;
  const key = user['client-key-data']
    ? Buffer.from(user['client-key-data'], 'base64')
    : user['client-key']
      ? await readOrExplain(relative(user['client-key']), 'the client key named in the kubeconfig')
      : undefined;
  if ((cert === undefined) !== (key === undefined)) fail(`user "${chosen.user}" needs both a client certificate and a client key`);

  const tokenFile = user.tokenFile ? relative(user.tokenFile) : undefined;
  const authorization = async (): Promise<string | undefined> => {
    if (user.token) return `Bearer ${user.token}`;
    if (tokenFile) return `Bearer ${(await readOrExplain(tokenFile, 'the token file named in the kubeconfig')).toString('utf8').trim()}`;
    if (user.username !== undefined) return `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    return undefined;
  };
  const origin = `${server.protocol}//${server.host}`;
  const prefix = server.pathname.replace(/\/+$/, '');
  return {
    endpoint: {
      baseUrl: new URL(origin),
      tls: {
        ...(ca ? { ca } : {}),
        ...(cert && key ? { cert, key } : {}),
        rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
        ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
      },
    },
    server: `${origin}${prefix}`,
    // A server URL may carry a path prefix (a proxy in front of the API); requests keep it.
    pathPrefix: prefix,
    who: chosen.user ? `kubeconfig user "${chosen.user}"` : 'the kubeconfig user',
    authorization,
  };
}

async function readOrExplain(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IntegrationError(
      `Cannot read ${what} at ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`,
      { cause: error },
    );
  }
}
