import { z } from 'zod';
import { formatPath } from '../config/problems.js';

/**
 * The JSON Alertmanager POSTs to a `webhook_config` receiver, version 4 (prometheus/alertmanager
 * `notify/webhook` `Message`, which embeds `template.Data` and `template.Alert`). Unknown fields are
 * dropped rather than refused, so a newer Alertmanager that adds some still gets through.
 */

const MAX_PROBLEMS = 20;

/** Labels or annotations by name. Null-prototype: a label named `__proto__` or `toString` is an ordinary entry. */
export type LabelSet = Readonly<Record<string, string>>;

/** An empty label set without a prototype. */
export const noLabels = (): Record<string, string> => Object.create(null) as Record<string, string>;

/** A label set from entries, without a prototype, so that every name is an own entry and no other. */
export function labelSet(entries: Iterable<readonly [string, string]>): Record<string, string> {
  const set = noLabels();
  for (const [name, value] of entries) set[name] = value;
  return set;
}

/** The value of label `name`, or undefined when the set has no such label (never an inherited member). */
export const labelValue = (labels: LabelSet, name: string): string | undefined => (Object.hasOwn(labels, name) ? labels[name] : undefined);

/**
 * Label and annotation maps: Alertmanager only ever sends string values, and a nil Go map arrives
 * as `null` (an empty set). Built by hand rather than with `z.record`, which assigns keys to a plain
 * object and so silently drops a label named `__proto__`.
 */
const StringMap = z.unknown().transform((input, ctx): LabelSet => {
  if (input === null) return noLabels();
  if (typeof input !== 'object' || Array.isArray(input)) {
    ctx.addIssue({ code: 'custom', message: `Invalid input: expected object, received ${Array.isArray(input) ? 'array' : input === undefined ? 'undefined' : typeof input}`, input });
    return z.NEVER;
  }
  const set = noLabels();
  for (const name of Object.keys(input)) {
    const value = (input as Record<string, unknown>)[name];
    if (typeof value === 'string') set[name] = value;
    else ctx.addIssue({ code: 'custom', message: `Invalid input: expected string, received ${value === null ? 'null' : typeof value}`, path: [name], input: value });
  }
  return set;
});

/** Go's `time.Time` in JSON: RFC 3339 with up to nine fractional digits and an offset. */
const GoTime = z.iso
  .datetime({ offset: true, error: (issue) => (issue.input === undefined ? 'Required' : 'must be an RFC 3339 time such as 2024-05-01T10:00:00Z') })
  .transform((text, ctx) => {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a valid time` });
    return z.NEVER;
  }
  return date;
});

/**
 * Go's zero time (`0001-01-01T00:00:00Z`) means "unknown": Alertmanager sends it as `endsAt` of
 * firing alerts, and other senders of this format as a `startsAt` they do not know. It becomes
 * undefined (as do `null` and a missing field), so nothing ever shows or compares year 1.
 */
const OptionalGoTime = z.preprocess((value) => value ?? undefined, GoTime.optional()).transform((date) => (date && date.getUTCFullYear() > 1 ? date : undefined));

const Status = z.enum(['firing', 'resolved']);

/** Empty strings mean "absent" in Go's JSON; they become undefined. */
const OptionalString = z
  .string()
  .nullish()
  .transform((s) => (s ? s : undefined));

export const AlertmanagerAlert = z.object({
  status: Status,
  labels: StringMap,
  annotations: StringMap,
  /** Undefined: unknown (Go's zero time). */
  startsAt: OptionalGoTime,
  endsAt: OptionalGoTime,
  generatorURL: OptionalString,
  /** Alertmanager's hash of the label set: 16 hex digits today. */
  fingerprint: z.string().min(1).max(128),
});

export const AlertmanagerNotification = z.object({
  version: z.literal('4', { message: 'must be "4" (Alertmanager webhook payload version 4)' }),
  groupKey: z.string().min(1),
  /** How many alerts `max_alerts` left out of `alerts`. */
  truncatedAlerts: z.number().int().min(0).default(0),
  status: Status,
  receiver: z.string().nullish().transform((r) => r ?? ''),
  groupLabels: StringMap,
  commonLabels: StringMap,
  commonAnnotations: StringMap,
  externalURL: z.string().nullish().transform((u) => u ?? ''),
  /** As many as the body limit lets in (`max_alerts: 0` sends them all); `null` (a nil Go slice) is none. */
  alerts: z.preprocess((value) => (value === null ? [] : value), z.array(AlertmanagerAlert)),
});

export type AlertmanagerAlert = z.output<typeof AlertmanagerAlert>;
export type AlertmanagerNotification = z.output<typeof AlertmanagerNotification>;

export type ParsedNotification = { ok: true; notification: AlertmanagerNotification } | { ok: false; problems: string[] };

const problemsOf = (issues: readonly z.core.$ZodIssue[], prefix: ReadonlyArray<PropertyKey> = []) =>
  issues.map((issue) => `${formatPath([...prefix, ...issue.path]) || '(body)'}: ${issue.message}`);

function answer(problems: string[], notification: () => AlertmanagerNotification): ParsedNotification {
  if (problems.length === 0) return { ok: true, notification: notification() };
  if (problems.length <= MAX_PROBLEMS) return { ok: false, problems };
  return { ok: false, problems: [...problems.slice(0, MAX_PROBLEMS), `…and ${problems.length - MAX_PROBLEMS} more problems`] };
}

const PARSE_OPTIONS = { error: (issue: z.core.$ZodRawIssue) => (issue.input === undefined ? 'Required' : undefined) };

/**
 * Validates one webhook body. Problems name the field, e.g. `alerts[3].fingerprint: Required`;
 * the first twenty are listed, then how many more there were.
 */
export function parseNotification(json: unknown): ParsedNotification {
  const parsed = AlertmanagerNotification.safeParse(json, PARSE_OPTIONS);
  return parsed.success ? answer([], () => parsed.data) : answer(problemsOf(parsed.error.issues), () => parsed.data as never);
}

/** Alerts validated between two turns of the event loop in `parseNotificationInSlices`. */
const SLICE = 500;

/**
 * `parseNotification` that yields to the event loop every few hundred alerts: a group sent with
 * `max_alerts: 0` may hold tens of thousands, and validating them in one go would stall every
 * other request (about 2 s for 25 MiB). Same answer as `parseNotification`.
 */
export async function parseNotificationInSlices(json: unknown): Promise<ParsedNotification> {
  const alerts = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { alerts?: unknown }).alerts : undefined;
  if (!Array.isArray(alerts) || alerts.length <= SLICE) return parseNotification(json);
  const envelope = AlertmanagerNotification.safeParse({ ...(json as object), alerts: [] }, PARSE_OPTIONS);
  const problems = envelope.success ? [] : problemsOf(envelope.error.issues);
  const parsed: AlertmanagerAlert[] = [];
  for (let start = 0; start < alerts.length; start += SLICE) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = start; i < Math.min(start + SLICE, alerts.length); i++) {
      const alert = AlertmanagerAlert.safeParse(alerts[i], PARSE_OPTIONS);
      if (alert.success) parsed.push(alert.data);
      else problems.push(...problemsOf(alert.error.issues, ['alerts', i]));
    }
  }
  return answer(problems, () => ({ ...envelope.data!, alerts: parsed }));
}
