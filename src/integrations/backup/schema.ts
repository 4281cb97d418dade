import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { Duration } from '../../config/duration.js';
import { strictObject, uniqueNames, urlWith } from '../../config/schema-helpers.js';

const MAX_TIMEOUT_MS = 24 * 3_600_000;

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "_" or "-" (at most 63, starting with a letter or digit)');

const timeout = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(Duration)
    .pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 24h'));

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;
// One comma-separated item: "*", "5", "1-5", "*/15", "10-50/10", or a name such as "MON" or "JAN-MAR".
const CRON_ITEM = /^(\*|[0-9]+|[A-Za-z]{3})(-([0-9]+|[A-Za-z]{3}))?(\/[0-9]+)?$/;

/** Why a 5-field cron expression is malformed, or undefined. Loose on purpose: the scheduler has the last word. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `"${expression}" has ${fields.length} fields; write 5: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"`;
  for (const [index, field] of fields.entries()) {
    const spec = CRON_FIELDS[index]!;
    for (const item of field.split(',')) {
      if (!CRON_ITEM.test(item)) return `the ${spec.name} field "${field}" is not valid cron syntax`;
      for (const number of item.match(/(?<!\/)\b[0-9]+\b/g) ?? []) {
        if (Number(number) < spec.min || Number(number) > spec.max) {
          return `the ${spec.name} field "${field}" must stay within ${spec.min}-${spec.max}`;
        }
      }
    }
  }
  return undefined;
}

const Schedule = z.string().superRefine((text, ctx) => {
  const problem = cronProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const Timezone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

// Passed to pg_dump as the libpq environment variables of the same meaning.
export const PG_URL_PARAMS = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  host: 'PGHOST',
  user: 'PGUSER',
} as const;

/** Why a postgres:// URL cannot drive pg_dump, or undefined. Never echoes the URL: it may hold a password. */
function postgresUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a valid postgres:// or postgresql:// URL';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return 'must be a valid postgres:// or postgresql:// URL';
  const database = safeDecode(url.pathname.replace(/^\//, ''));
  if (!database) return 'must name the database, e.g. postgres://backup@127.0.0.1:5432/brownie_metadata';
  // pg_dump reads a --dbname holding "=" or a URI prefix as a whole connection string.
  if (database.includes('=') || database.includes('/')) return 'the database name must not contain "=" or "/"';
  if (!url.hostname && !url.searchParams.has('host')) return 'must name the host, e.g. postgres://backup@127.0.0.1:5432/brownie_metadata';
  const unknown = [...url.searchParams.keys()].filter((key) => !Object.hasOwn(PG_URL_PARAMS, key));
  if (unknown.length > 0) return `unsupported URL parameter ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${Object.keys(PG_URL_PARAMS).join(', ')})`;
  return undefined;
}

const PostgresUrl = z.string().superRefine((text, ctx) => {
  const problem = postgresUrlProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// Checked here rather than in the key schema so the message names the bad variable.
const EnvVars = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const name of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not a valid environment variable name`, path: [name] });
  }
});

// A relative folder is taken from where Switchboard starts, so `./.data/backups` works on a laptop.
const Folder = z
  .string()
  .min(1, 'must be a folder such as /var/backups/brownie')
  .refine((path) => !path.includes('\0'), { message: 'must be a folder such as /var/backups/brownie' })
  .transform((path) => (isAbsolute(path) ? path : resolve(path)));

const Retention = strictObject({
  keep: z.number().int('must be a whole number').min(1, 'must keep at least 1 backup').optional(),
  days: z.number().positive('must be more than 0').optional(),
}).refine((r) => r.keep !== undefined || r.days !== undefined, { message: 'give keep (newest N backups), days (backups younger than N days), or both' });

const PostgresBackupSchema = strictObject({
  name: Name,
  kind: z.literal('postgres'),
  url: PostgresUrl,
  folder: Folder,
  format: z.enum(['custom', 'plain']).default('custom'),
  retention: Retention.optional(),
  timeout: timeout('30m'),
  schedule: Schedule.optional(),
  timezone: Timezone.optional(),
});

const RedisBackupSchema = strictObject({
  name: Name,
  kind: z.literal('redis'),
  url: urlWith(['redis:', 'rediss:'], 'redis:// or rediss://'),
  timeout: timeout('5m'),
  schedule: Schedule.optional(),
  timezone: Timezone.optional(),
});

const CommandBackupSchema = strictObject({
  name: Name,
  kind: z.literal('command'),
  argv: z.array(z.string().min(1, 'must not be empty')).min(1, 'give at least the program, e.g. [./scripts/backup.sh]'),
  cwd: Folder.optional(),
  env: EnvVars.optional(),
  timeout: timeout('30m'),
  schedule: Schedule.optional(),
  timezone: Timezone.optional(),
});

/** One backup of a catalog service, as written under `backups:`. */
export const BackupConfig = z.discriminatedUnion('kind', [PostgresBackupSchema, RedisBackupSchema, CommandBackupSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'kind must be one of: postgres, redis, command' : undefined),
});

/** The `backups:` list of a service; names must be unique because they name the files and the metrics. */
export const BackupList = z.array(BackupConfig).superRefine(uniqueNames('backup'));

export type Backup = z.output<typeof BackupConfig>;
export type BackupKind = Backup['kind'];
export type PostgresBackup = Extract<Backup, { kind: 'postgres' }>;
export type RedisBackup = Extract<Backup, { kind: 'redis' }>;
export type CommandBackup = Extract<Backup, { kind: 'command' }>;
export type BackupRetention = NonNullable<PostgresBackup['retention']>;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
