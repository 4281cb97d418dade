import { validate } from 'node-cron';
import { z } from 'zod';
import { SlackChannel } from '../alerts/route-schema.js';
import { isValidTimeZone } from '../alerts/escalation/zoned-time.js';
import { Duration } from '../config/duration.js';
import { strictObject } from '../config/schema-helpers.js';
import { cronProblem } from '../integrations/backup/schema.js';

/** A 5-field cron expression: the catalog's readable check first, then node-cron's own parser, which has the last word. */
export const CronSchedule = z.string().superRefine((text, ctx) => {
  const problem = cronProblem(text) ?? (validate(text) ? undefined : `"${text}" is not a cron expression the scheduler accepts`);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const TimeZone = z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' });

const common = (schedule: string) => ({
  enabled: z.boolean().default(true),
  schedule: CronSchedule.default(schedule),
  timezone: TimeZone.default('UTC'),
  /** Where the result goes; default: the `defaultRoute` channel. */
  channel: SlackChannel.optional(),
});

const WarnDays = z
  .array(z.number().int('must be a whole number of days').min(1, 'must be at least 1 day'))
  .min(1, 'give at least one threshold, e.g. [30, 7]')
  .max(5, 'give at most 5 thresholds')
  .transform((days) => [...new Set(days)].sort((a, b) => b - a));

/**
 * Catalog `jobs:`, scheduled work. Every key is optional; the defaults are a health report at
 * 09:00 UTC, a certificate check at 08:00 UTC, an escalation audit every minute and the
 * notification retention at 03:30 UTC.
 */
export const JobsConfig = strictObject({
  /** One message a day with one line per service (the `service.health` action). */
  healthReport: strictObject(common('0 9 * * *')).prefault({}),
  /** Every `tls` health check of every service; lists certificates under a threshold (days, most urgent last). */
  certificateCheck: strictObject({ ...common('0 8 * * *'), warnDays: WarnDays.default([30, 7]) }).prefault({}),
  /** Warns when an escalation step is overdue by more than `overdueAfter`. */
  escalationAudit: strictObject({ ...common('* * * * *'), overdueAfter: Duration.default(60_000) }).prefault({}),
  /** Deletes stored webhook deliveries older than `keep` once applied; posts nothing. */
  notificationRetention: strictObject({
    enabled: z.boolean().default(true),
    schedule: CronSchedule.default('30 3 * * *'),
    timezone: TimeZone.default('UTC'),
    keep: Duration.default(30 * 86_400_000),
  }).prefault({}),
});

export type JobsConfig = z.output<typeof JobsConfig>;
