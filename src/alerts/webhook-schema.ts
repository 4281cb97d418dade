import { z } from 'zod';
import { formatPath } from '../config/problems.js';

/**
 * The JSON Alertmanager POSTs to a `webhook_config` receiver, version 4 (prometheus/alertmanager
 * `notify/webhook` `Message`, which embeds `template.Data` and `template.Alert`). Unknown fields are
 * dropped rather than refused, so a newer Alertmanager that adds some still gets through.
 */

/** At most this many alerts per notification; Alertmanager's `max_alerts` keeps real ones far below. */
export const MAX_ALERTS = 10_000;

const MAX_PROBLEMS = 20;

/** Label and annotation maps: Alertmanager only ever sends string values. */
const StringMap = z.record(z.string(), z.string());

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

/** Go's zero time (`0001-01-01T00:00:00Z`) means "not set": Alertmanager sends it as `endsAt` of firing alerts. */
const OptionalGoTime = GoTime.transform((date) => (date.getUTCFullYear() <= 1 ? undefined : date));

const Status = z.enum(['firing', 'resolved']);

/** Empty strings mean "absent" in Go's JSON; they become undefined. */
const OptionalString = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined));

export const AlertmanagerAlert = z.object({
  status: Status,
  labels: StringMap,
  annotations: StringMap.default({}),
  startsAt: GoTime,
  endsAt: OptionalGoTime.optional(),
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
  receiver: z.string(),
  groupLabels: StringMap,
  commonLabels: StringMap,
  commonAnnotations: StringMap.default({}),
  externalURL: z.string(),
  alerts: z.array(AlertmanagerAlert).max(MAX_ALERTS, `must hold at most ${MAX_ALERTS} alerts; lower max_alerts in the webhook_config`),
});

export type AlertmanagerAlert = z.output<typeof AlertmanagerAlert>;
export type AlertmanagerNotification = z.output<typeof AlertmanagerNotification>;

export type ParsedNotification = { ok: true; notification: AlertmanagerNotification } | { ok: false; problems: string[] };

/**
 * Validates one webhook body. Problems name the field, e.g. `alerts[3].fingerprint: Required`;
 * the first twenty are listed, then how many more there were.
 */
export function parseNotification(json: unknown): ParsedNotification {
  // Refuse an oversized batch before validating thousands of alerts one by one.
  const alerts = typeof json === 'object' && json !== null ? (json as { alerts?: unknown }).alerts : undefined;
  if (Array.isArray(alerts) && alerts.length > MAX_ALERTS) {
    return { ok: false, problems: [`alerts: must hold at most ${MAX_ALERTS} alerts, got ${alerts.length}; lower max_alerts in the webhook_config`] };
  }
  const parsed = AlertmanagerNotification.safeParse(json, {
    error: (issue) => (issue.input === undefined ? 'Required' : undefined),
  });
  if (parsed.success) return { ok: true, notification: parsed.data };
  const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(body)'}: ${issue.message}`);
  if (problems.length <= MAX_PROBLEMS) return { ok: false, problems };
  return { ok: false, problems: [...problems.slice(0, MAX_PROBLEMS), `…and ${problems.length - MAX_PROBLEMS} more problems`] };
}
