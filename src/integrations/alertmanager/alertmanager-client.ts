import { z } from 'zod';
import { IntegrationError } from '../integration-error.js';
import { withDeadline, type Deadline } from '../restart/deadline.js';
import { describeSocketProblem, excerpt } from '../restart/socket-problem.js';
import { formatMatcher, formatMatchers, type Matcher } from './matchers.js';
import type { AlertmanagerConfig } from './schema.js';
import type { CallOptions, FiringAlert, NewSilence, Silence, Silencer } from './silencer.js';

/** Alertmanager has no silence with that id: never created there, or expired long enough ago to be garbage-collected. */
export class SilenceNotFoundError extends IntegrationError {
  constructor(
    readonly silenceId: string,
    where: string,
  ) {
    super(`Alertmanager at ${where} has no silence ${silenceId}.`, {
      hint: 'It may have expired and been removed (Alertmanager keeps expired silences for 5 days by default), or alertmanager.url points at another Alertmanager.',
    });
    this.name = 'SilenceNotFoundError';
  }
}

const REASON_LENGTH = 300;
/** Alertmanager names silences with UUIDs; anything else would be sent into the URL path. */
const SILENCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const WireMatcher = z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().optional() });
const WireSilence = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  matchers: z.array(WireMatcher),
  createdBy: z.string(),
  comment: z.string(),
});
const WireAlerts = z.array(
  z.object({
    fingerprint: z.string(),
    labels: z.record(z.string(), z.string()),
    status: z.object({ state: z.string(), silencedBy: z.array(z.string()).default([]), inhibitedBy: z.array(z.string()).default([]) }),
  }),
);
const WireCreated = z.object({ silenceID: z.string() });

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below `/api/v2`, with its query string. */
  path: string;
  body?: unknown;
  /** What the call does, for messages: "creating a silence". */
  doing: string;
  /** What Alertmanager would reject with 400: "the silence". */
  what: string;
}

interface Answer {
  status: number;
  text: string;
}

/** The Alertmanager API v2 adapter of the Silencer port. */
export function createAlertmanagerClient(config: AlertmanagerConfig, opts: { fetchImpl?: typeof fetch } = {}): Silencer {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const base = new URL(config.url);
  const where = `${base.protocol}//${base.host}${base.pathname.replace(/\/+$/, '')}`;
  const apiRoot = `${base.origin}${base.pathname.replace(/\/+$/, '')}/api/v2`;
  const secrets = secretsOf(config);

  const fail = (message: string, options: { cause?: unknown; hint?: string } = {}) =>
    new IntegrationError(redact(message, secrets), { ...options, ...(options.hint ? { hint: redact(options.hint, secrets) } : {}) });

  async function send(call: Call, signal: AbortSignal | undefined): Promise<Answer> {
    return withDeadline(signal ?? new AbortController().signal, config.timeout, async (deadline: Deadline) => {
      const headers: Record<string, string> = { accept: 'application/json', ...config.headers };
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      try {
        const response = await fetchImpl(`${apiRoot}${call.path}`, {
          method: call.method,
          headers,
          ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
          // A redirect would carry the configured headers somewhere the catalog does not name.
          redirect: 'manual',
          signal: deadline.signal,
        });
        return { status: response.status, text: await response.text() };
      } catch (error) {
        const why = deadline.why();
        throw fail(why ? `Alertmanager at ${where} ${why} while ${call.doing}.` : `Alertmanager at ${where} ${describeSocketProblem(error)} while ${call.doing}.`, {
          cause: error,
          ...(why === undefined ? { hint: 'Check alertmanager.url in the catalog and that Alertmanager is running and reachable from Switchboard.' } : {}),
        });
      }
    });
  }

  /** Every answer that is not the expected success, in words; `reason` is Alertmanager's own message. */
  function refused(call: Call, answer: Answer): IntegrationError {
    const reason = reasonOf(answer.text);
    const said = reason ? `: ${reason}` : '';
    if (answer.status === 400) return fail(`Alertmanager at ${where} rejected ${call.what}${said}`);
    if (answer.status === 401 || answer.status === 403) {
      return fail(`Alertmanager at ${where} answered HTTP ${answer.status} (${answer.status === 401 ? 'not authenticated' : 'forbidden'}) while ${call.doing}.`, {
        hint: 'Check alertmanager.headers in the catalog (e.g. Authorization: Bearer ${AM_TOKEN}) and that the token is set and still valid.',
      });
    }
    if (answer.status >= 300 && answer.status < 400) {
      return fail(`Alertmanager at ${where} answered with a redirect (HTTP ${answer.status}) while ${call.doing}.`, {
        hint: 'Set alertmanager.url to the address the redirect points to (scheme, host and route prefix).',
      });
    }
    if (answer.status === 404) {
      return fail(`${where} answered HTTP 404 for the Alertmanager API v2 while ${call.doing}.`, {
        hint: 'Check that alertmanager.url points at Alertmanager (0.16 or later), including its route prefix if it has one.',
      });
    }
    return fail(`Alertmanager at ${where} answered HTTP ${answer.status} while ${call.doing}${said}`);
  }

  function parse<T>(schema: z.ZodType<T>, call: Call, answer: Answer): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw fail(`${where} answered ${call.doing} with something other than Alertmanager API v2 JSON.`, {
        hint: 'Check that alertmanager.url points at Alertmanager, not at Prometheus or a login page.',
      });
    }
    return parsed.data;
  }

  function checkedId(id: string): string {
    if (!SILENCE_ID.test(id)) throw fail(`"${excerpt(id, 60)}" is not an Alertmanager silence id (a UUID such as 8b4f1c0e-…).`);
    return id.toLowerCase();
  }

  return {
    async create(silence: NewSilence, callOpts: CallOptions = {}) {
      if (silence.matchers.length === 0) throw fail('A silence needs at least one matcher; without one it would silence every alert.');
      for (const [name, date] of [['startsAt', silence.startsAt], ['endsAt', silence.endsAt]] as const) {
        if (Number.isNaN(date.getTime())) throw fail(`The silence's ${name} is not a valid time.`);
      }
      const call: Call = {
        method: 'POST',
        path: '/silences',
        doing: 'creating a silence',
        what: 'the silence',
        body: {
          matchers: silence.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true })),
          startsAt: silence.startsAt.toISOString(),
          endsAt: silence.endsAt.toISOString(),
          createdBy: silence.createdBy,
          comment: silence.comment,
        },
      };
      const answer = await send(call, callOpts.signal);
      if (answer.status !== 200) throw refused(call, answer);
      return { id: parse(WireCreated, call, answer).silenceID };
    },

    async expire(id: string, callOpts: CallOptions = {}) {
      const silenceId = checkedId(id);
      const call: Call = { method: 'DELETE', path: `/silence/${encodeURIComponent(silenceId)}`, doing: `expiring silence ${silenceId}`, what: `expiring silence ${silenceId}` };
      const answer = await send(call, callOpts.signal);
      if (answer.status === 200) return;
      // Alertmanager 0.25 answers a missing silence with 500 "silence not found"; later versions with 404.
      const reason = reasonOf(answer.text);
      if (answer.status === 404 || (answer.status === 500 && /not found/i.test(reason))) throw new SilenceNotFoundError(silenceId, where);
      // Some versions refused to expire an expired silence; it is already what the caller wants.
      if (answer.status === 500 && /already expired/i.test(reason)) return;
      throw refused(call, answer);
    },

    async get(id: string, callOpts: CallOptions = {}): Promise<Silence> {
      const silenceId = checkedId(id);
      const call: Call = { method: 'GET', path: `/silence/${encodeURIComponent(silenceId)}`, doing: `reading silence ${silenceId}`, what: `reading silence ${silenceId}` };
      const answer = await send(call, callOpts.signal);
      if (answer.status === 404) throw new SilenceNotFoundError(silenceId, where);
      if (answer.status !== 200) throw refused(call, answer);
      const wire = parse(WireSilence, call, answer);
      return {
        id: wire.id,
        status: wire.status.state,
        startsAt: new Date(wire.startsAt),
        endsAt: new Date(wire.endsAt),
        matchers: wire.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual ?? true })),
        createdBy: wire.createdBy,
        comment: wire.comment,
      };
    },

    async firingAlerts(matchers: Matcher[], callOpts: CallOptions = {}): Promise<FiringAlert[]> {
      // The documented defaults, spelled out: firing alerts in every state, so silenced ones show as such.
      const query = new URLSearchParams({ active: 'true', silenced: 'true', inhibited: 'true', unprocessed: 'true' });
      for (const matcher of matchers) query.append('filter', formatMatcher(matcher));
      const call: Call = { method: 'GET', path: `/alerts?${query.toString()}`, doing: 'listing alerts', what: `the alert filter ${excerpt(formatMatchers(matchers), 200)}` };
      const answer = await send(call, callOpts.signal);
      if (answer.status !== 200) throw refused(call, answer);
      return parse(WireAlerts, call, answer).map((alert) => ({
        fingerprint: alert.fingerprint,
        labels: alert.labels,
        status: { state: alert.status.state, silencedBy: alert.status.silencedBy, inhibitedBy: alert.status.inhibitedBy },
      }));
    },
  };
}

/** Alertmanager's error bodies are a JSON string ("silence invalid: …") or, from its router, `{code, message}`. */
function reasonOf(text: string): string {
  let reason = text;
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'string') reason = json;
    else if (typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string') reason = json.message;
  } catch {
    // Plain text from a proxy in front of Alertmanager.
  }
  return excerpt(reason, REASON_LENGTH);
}

/** Header values, and the token inside "Bearer <token>", never reach Slack even if a proxy echoes them. */
function secretsOf(config: AlertmanagerConfig): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(config.headers ?? {})) {
    secrets.push(value);
    const [, credential] = /^\S+\s+(\S+)$/.exec(value) ?? [];
    if (credential) secrets.push(credential);
  }
  return [...new Set(secrets.filter((secret) => secret.length >= 4))].sort((a, b) => b.length - a.length);
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((clean, secret) => clean.split(secret).join('***'), text);
}
