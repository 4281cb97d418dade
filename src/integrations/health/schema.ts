import { z } from 'zod';
import { Duration } from '../../config/duration.js';
import { strictObject, uniqueNames, urlWith } from '../../config/schema-helpers.js';

const MAX_TIMEOUT_MS = 60_000;

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');

const Timeout = Duration.pipe(
  z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 60s'),
).default(5_000);

const Host = z.string().trim().min(1, 'must not be empty');
const Port = z.number().int('must be a whole number').min(1, 'must be a port between 1 and 65535').max(65_535, 'must be a port between 1 and 65535');

/** Keys are dotted paths ("a.b.*", "*" = every child); checked here so the message names the bad key. */
const JsonExpectations = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).superRefine((json, ctx) => {
  for (const path of Object.keys(json)) {
    if (path.split('.').some((segment) => segment === '')) {
      ctx.addIssue({ code: 'custom', message: `"${path}" is not a dotted path such as "status" or "dependencies.*"`, path: [path] });
    }
  }
});

const HttpCheck = strictObject({
  name: Name,
  kind: z.literal('http'),
  url: urlWith(['http:', 'https:'], 'http:// or https://'),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid header name'), z.string()).optional(),
  expect: strictObject({
    status: z.number().int().min(100).max(599).optional(),
    json: JsonExpectations.optional(),
  }).optional(),
  timeout: Timeout,
}).refine((check) => !(check.method === 'HEAD' && check.expect?.json), {
  message: 'expect.json needs a response body; use method GET',
  path: ['method'],
});

const TcpCheck = strictObject({
  name: Name,
  kind: z.literal('tcp'),
  host: Host,
  port: Port,
  timeout: Timeout,
});

const RedisCheck = strictObject({
  name: Name,
  kind: z.literal('redis'),
  url: urlWith(['redis:', 'rediss:'], 'redis:// or rediss://'),
  timeout: Timeout,
});

const PostgresCheck = strictObject({
  name: Name,
  kind: z.literal('postgres'),
  url: urlWith(['postgres:', 'postgresql:'], 'postgres:// or postgresql://'),
  warnConnectionsPercent: z.number().positive().max(100).default(80),
  timeout: Timeout,
});

const TlsCheck = strictObject({
  name: Name,
  kind: z.literal('tls'),
  host: Host,
  port: Port.default(443),
  servername: Host.optional(),
  warnDays: z.number().int().min(0).default(30),
  timeout: Timeout,
});

/** One health check of a catalog service, as written under `health:`. */
export const HealthCheckConfig = z.discriminatedUnion('kind', [HttpCheck, TcpCheck, RedisCheck, PostgresCheck, TlsCheck], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'kind must be one of: http, tcp, redis, postgres, tls' : undefined,
});

/** The `health:` list of a service; names must be unique so results can be told apart. */
export const HealthCheckList = z.array(HealthCheckConfig).superRefine(uniqueNames('health check'));

export type HealthCheck = z.output<typeof HealthCheckConfig>;
export type HealthCheckKind = HealthCheck['kind'];
export type HttpHealthCheck = Extract<HealthCheck, { kind: 'http' }>;
export type TcpHealthCheck = Extract<HealthCheck, { kind: 'tcp' }>;
export type RedisHealthCheck = Extract<HealthCheck, { kind: 'redis' }>;
export type PostgresHealthCheck = Extract<HealthCheck, { kind: 'postgres' }>;
export type TlsHealthCheck = Extract<HealthCheck, { kind: 'tls' }>;
