import { pino, type DestinationStream, type Logger } from 'pino';
import type { Logger as SlackLogger, LogLevel as SlackLogLevel } from '@slack/bolt';

// Slack tokens (xoxb-, xapp-, xoxp-, …) and `user:password@` in URLs never reach a log line.
const SLACK_TOKEN = /\bx(?:ox[abpesr]|app)-[A-Za-z0-9-]+/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

export function scrubText(text: string): string {
  return text.replace(SLACK_TOKEN, (token) => `${token.slice(0, 5)}[REDACTED]`).replace(URL_PASSWORD, '$1***@');
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined, code: (value as NodeJS.ErrnoException).code };
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

const SECRET_PATHS = [
  'token',
  '*.token',
  'botToken',
  'appToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-slack-signature"]',
  '*.headers["x-slack-signature"]',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { app: 'switchboard' },
      redact: { paths: SECRET_PATHS, censor: '[REDACTED]' },
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>);
        },
      },
      serializers: { err: (error: unknown) => scrub(error) },
    },
    options.destination,
  );
}

/** Bolt and the Web API client log through pino, so their lines are JSON and scrubbed too. */
export function toSlackLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'bolt' });
  const text = (parts: unknown[]) => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  let level = child.level as SlackLogLevel;
  return {
    debug: (...msg) => child.debug(text(msg)),
    info: (...msg) => child.info(text(msg)),
    warn: (...msg) => child.warn(text(msg)),
    error: (...msg) => child.error(text(msg)),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
