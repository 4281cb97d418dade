import { z } from 'zod';
import { Duration } from '../../config/duration.js';
import { strictObject, urlWith } from '../../config/schema-helpers.js';
import { parseWorkload } from '../kubernetes/workload.js';

const MAX_TIMEOUT_MS = 30 * 60_000;

function timeout(defaultMs: number) {
  return Duration.pipe(
    z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 30m'),
  ).default(defaultMs);
}

/** A unix socket URL must name an absolute path: `unix:///var/run/supervisor.sock`. */
function hasSocketPath(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol !== 'unix:' || (url.host === '' && url.pathname.length > 1);
  } catch {
    return false;
  }
}

const Verify = strictObject({
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 30m')).default(60_000),
  interval: Duration.pipe(z.number().positive('must be longer than 0')).default(2_000),
}).refine((verify) => verify.interval <= verify.timeout, { message: 'interval must not be longer than timeout', path: ['interval'] });

const NotEmpty = z.string().trim().min(1, 'must not be empty');

/** Program names as supervisorctl shows them: `name` or `group:name`; wildcards would restart more than the catalog says. */
const SupervisorProgram = z
  .string()
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.@+-]*(:[A-Za-z0-9_.][A-Za-z0-9_.@+-]*)?$/, 'must be a supervisord program name such as "company-api" or "group:name"');

const SupervisorRestart = strictObject({
  kind: z.literal('supervisor'),
  url: urlWith(['http:', 'https:', 'unix:'], 'http://, https:// or unix://').refine(hasSocketPath, {
    message: 'a unix URL needs an absolute socket path, such as unix:///var/run/supervisor.sock',
  }),
  username: NotEmpty.optional(),
  password: z.string().optional(),
  programs: z.array(SupervisorProgram).min(1, 'list at least one program'),
  timeout: timeout(60_000),
  verify: Verify.optional(),
})
  .refine((config) => (config.username === undefined) === (config.password === undefined), {
    message: 'give both username and password, or neither',
    path: ['password'],
  })
  .refine((config) => !/\/\/[^/]*@/.test(config.url), {
    message: 'put credentials in username/password, not in the URL',
    path: ['url'],
  });

/** Docker's own rule for container names. */
const ContainerName = z.string().regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker container name such as "gateway-proxy"');
/** Compose lowercases project names; services follow the compose file's key rules. */
const ComposeName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'use letters, digits, "_", "." or "-"');

const DockerRestart = strictObject({
  kind: z.literal('docker'),
  host: urlWith(['unix:', 'tcp:', 'http:'], 'unix://, tcp:// or http://')
    .refine(hasSocketPath, { message: 'a unix URL needs an absolute socket path, such as unix:///var/run/docker.sock' })
    .default('unix:///var/run/docker.sock'),
  containers: z.array(ContainerName).min(1, 'list at least one container').optional(),
  compose: strictObject({ project: ComposeName, service: ComposeName }).optional(),
  timeout: timeout(60_000),
  verify: Verify.optional(),
}).refine((config) => (config.containers === undefined) !== (config.compose === undefined), {
  message: 'give either containers (names) or compose (project and service), not both and not neither',
  path: ['containers'],
});

const DnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name (lowercase letters, digits and "-")');

const KubernetesRestart = strictObject({
  kind: z.literal('kubernetes'),
  namespace: DnsLabel,
  resource: z.string().transform((text, ctx) => {
    const workload = parseWorkload(text);
    if (!workload) {
      ctx.addIssue({ code: 'custom', message: 'must be deployment/<name>, statefulset/<name> or daemonset/<name>' });
      return z.NEVER;
    }
    return `${workload.kind}/${workload.name}`;
  }),
  kubeconfig: NotEmpty.optional(),
  context: NotEmpty.optional(),
  timeout: timeout(60_000),
  verify: Verify.optional(),
}).refine((config) => config.context === undefined || config.kubeconfig !== undefined, {
  message: 'context needs a kubeconfig; without one the in-cluster service account is used',
  path: ['context'],
});

const CommandRestart = strictObject({
  kind: z.literal('command'),
  argv: z
    .array(z.string())
    .min(1, 'give at least the program, e.g. [systemctl, restart, my-service]')
    .refine((argv) => (argv[0] ?? '').trim() !== '', { message: 'the program (first element) must not be empty', path: [0] }),
  cwd: z.string().startsWith('/', 'must be an absolute path').optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).optional(),
  timeout: timeout(120_000),
  verify: Verify.optional(),
});

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid header name');

const WebhookRestart = strictObject({
  kind: z.literal('webhook'),
  url: urlWith(['http:', 'https:'], 'http:// or https://'),
  method: z.enum(['POST', 'PUT', 'PATCH', 'GET']).default('POST'),
  headers: z.record(HeaderName, z.string()).optional(),
  body: z.json().optional(),
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1, 'list at least one status, or leave it out for any 2xx').optional(),
  timeout: timeout(30_000),
  verify: Verify.optional(),
}).refine((config) => !(config.method === 'GET' && config.body !== undefined), {
  message: 'a GET request carries no body; use POST',
  path: ['body'],
});

/** How a catalog service is restarted, as written under `restart:`. */
export const RestartConfig = z.discriminatedUnion(
  'kind',
  [SupervisorRestart, DockerRestart, KubernetesRestart, CommandRestart, WebhookRestart],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'kind must be one of: supervisor, docker, kubernetes, command, webhook' : undefined,
  },
);

export type RestartConfig = z.output<typeof RestartConfig>;
export type RestartKind = RestartConfig['kind'];
export type SupervisorRestartConfig = Extract<RestartConfig, { kind: 'supervisor' }>;
export type DockerRestartConfig = Extract<RestartConfig, { kind: 'docker' }>;
export type KubernetesRestartConfig = Extract<RestartConfig, { kind: 'kubernetes' }>;
export type CommandRestartConfig = Extract<RestartConfig, { kind: 'command' }>;
export type WebhookRestartConfig = Extract<RestartConfig, { kind: 'webhook' }>;
/** After the restart, health checks are re-run every `interval` ms until they pass or `timeout` ms pass. */
export type RestartVerify = z.output<typeof Verify>;
