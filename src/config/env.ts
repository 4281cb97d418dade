import { z } from 'zod';
import { formatProblems, problemsFromZod, type ConfigProblem } from './problems.js';

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const EnvSchema = z
  .object({
    SLACK_BOT_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xoxb-'), {
      message: 'must be a bot token starting with "xoxb-" (OAuth & Permissions page of your Slack app)',
    }),
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_APP_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xapp-'), {
      message: 'must be an app-level token starting with "xapp-" (Basic Information → App-Level Tokens, scope connections:write)',
    }),
    SLACK_API_URL: optionalText.pipe(z.url({ message: 'must be a URL such as https://slack.com/api/' }).optional()),
    DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/switchboard',
    }),
    SWITCHBOARD_DATA_DIR: optionalText.default('./.data'),
    SWITCHBOARD_CONFIG: optionalText.default('./switchboard.yml'),
    ALERTMANAGER_WEBHOOK_TOKEN: optionalText,
    /** The largest `POST /alertmanager` body accepted; larger ones get 413, which Alertmanager drops. Default 32 MiB. */
    ALERTMANAGER_MAX_BODY_BYTES: optionalText
      .pipe(z.string().regex(/^\d+$/, 'must be a number of bytes such as 33554432 (32 MiB)').optional())
      .transform((v) => (v === undefined ? undefined : Number(v)))
      .pipe(z.number().int().min(1024 * 1024, 'must be at least 1048576 (1 MiB); a group sent with max_alerts: 0 needs far more').optional()),
    PORT: optionalText
      .pipe(z.string().regex(/^\d+$/, 'must be a port number such as 3000').optional())
      .transform((v) => (v === undefined ? 3000 : Number(v)))
      .pipe(z.number().int().max(65_535, 'must be a port number between 0 and 65535')),
    LOG_LEVEL: optionalText.pipe(
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
  });

/** The variables that connect Slack; with none of them set, Switchboard starts the sandbox instead. */
export const SLACK_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL'] as const;

/** Checks across variables, made on the raw values so they are reported together with per-variable problems. */
function crossProblems(source: Record<string, string | undefined>): ConfigProblem[] {
  const set = (name: string) => (source[name] ?? '').trim() !== '';
  const problems: ConfigProblem[] = [];
  // A secret whose template or secret store did not resolve arrives empty; read as "not set", it
  // would start the sandbox (Slack without Slack) on a server meant to talk to Slack.
  for (const name of SLACK_VARIABLES) {
    const value = source[name];
    if (value !== undefined && value.trim() === '') {
      problems.push({ path: name, message: 'is set but empty: fill in its value (did a secret fail to resolve?), or unset it to start without Slack' });
    }
  }
  if (set('SLACK_API_URL') && !set('SLACK_BOT_TOKEN')) {
    problems.push({ path: 'SLACK_BOT_TOKEN', message: 'is required once SLACK_API_URL is set (OAuth & Permissions → Bot User OAuth Token); unset SLACK_API_URL to start the sandbox' });
  }
  if (set('SLACK_BOT_TOKEN') && !set('SLACK_APP_TOKEN') && !set('SLACK_SIGNING_SECRET')) {
    problems.push({
      path: 'SLACK_SIGNING_SECRET',
      message: 'is required in HTTP mode (Basic Information → Signing Secret), or set SLACK_APP_TOKEN for Socket Mode',
    });
  }
  if (!set('SLACK_BOT_TOKEN') && (set('SLACK_APP_TOKEN') || set('SLACK_SIGNING_SECRET'))) {
    problems.push({
      path: 'SLACK_BOT_TOKEN',
      message: 'is required once SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set (OAuth & Permissions → Bot User OAuth Token)',
    });
  }
  return problems;
}

export type Env = z.output<typeof EnvSchema>;

/** How the process reaches Slack, derived once from the environment. */
export type SlackMode =
  | { kind: 'http'; botToken: string; signingSecret: string; apiUrl: string | undefined }
  | { kind: 'socket'; botToken: string; appToken: string; signingSecret: string | undefined; apiUrl: string | undefined }
  | { kind: 'offline' };

export function slackMode(env: Env): SlackMode {
  if (!env.SLACK_BOT_TOKEN) return { kind: 'offline' };
  if (env.SLACK_APP_TOKEN) {
    return {
      kind: 'socket',
      botToken: env.SLACK_BOT_TOKEN,
      appToken: env.SLACK_APP_TOKEN,
      signingSecret: env.SLACK_SIGNING_SECRET,
      apiUrl: env.SLACK_API_URL,
    };
  }
  return {
    kind: 'http',
    botToken: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET ?? '',
    apiUrl: env.SLACK_API_URL,
  };
}

export class EnvError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid environment:\n${formatProblems(problems)}`);
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source);
  const problems = [...(result.success ? [] : problemsFromZod(result.error, 'env')), ...crossProblems(source)];
  if (problems.length > 0 || !result.success) throw new EnvError(problems);
  return result.data;
}
