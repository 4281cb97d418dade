import { z } from 'zod';
import { Duration } from '../../config/duration.js';

const MAX_TIMEOUT_MS = 5 * 60_000;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Names the bad key: zod's own record-key message says only "Invalid key in record". */
const Headers = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const name of Object.keys(headers)) {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid header name` });
  }
});

/** Messages never echo the URL: it may hold a password. */
const HttpUrl = z
  .string()
  .refine(
    (text) => {
      try {
        return ['http:', 'https:'].includes(new URL(text).protocol);
      } catch {
        return false;
      }
    },
    { message: 'must be an http:// or https:// URL such as http://127.0.0.1:9093' },
  )
  .refine((text) => !/\/\/[^/]*@/.test(text), { message: 'put credentials in headers (Authorization), not in the URL' })
  .refine((text) => !/[?#]/.test(text), { message: 'must not have a query string or fragment; give the base URL, e.g. http://127.0.0.1:9093' });

/** How often open incidents are checked against Alertmanager's API, and how long an alert must be missing to count as gone. */
const Reconcile = z.strictObject({
  interval: Duration.pipe(z.number().min(1_000, 'must be at least 1s')).default(60_000),
  /**
   * Missing at one check is not yet gone: an Alertmanager that restarted without its state gets
   * alerts still firing back from Prometheus within its resend delay (1m), with the same startsAt.
   */
  goneAfter: Duration.pipe(z.number().min(0)).default(120_000),
});

const Shape = {
  url: HttpUrl.optional(),
  /** Every Alertmanager of an HA pair (or cluster): reconciliation asks each; silences go to the first. */
  urls: z.array(HttpUrl).min(1, 'list at least one URL').optional(),
  headers: Headers.optional(),
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 5m')).default(10_000),
  reconcile: Reconcile.prefault({}),
};
const allowed = Object.keys(Shape).join(', ');

/**
 * The catalog's top-level `alertmanager:` key: where Switchboard creates and expires silences,
 * and which Alertmanagers it asks whether open incidents' alerts still fire. `url` (one) or
 * `urls` (an HA pair) are base URLs (with the route prefix, if Alertmanager runs under one); the
 * API lives at `<url>/api/v2`. Once parsed, `urls` lists them all and `url` is the first.
 */
export const AlertmanagerConfig = z
  .strictObject(Shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${allowed})` : undefined,
  })
  .superRefine((config, ctx) => {
    if (config.url === undefined && config.urls === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url (one Alertmanager) or urls (an HA pair)' });
  })
  .transform(({ url, urls, ...rest }) => {
    const all = [...new Set([...(url !== undefined ? [url] : []), ...(urls ?? [])])];
    return { ...rest, url: all[0] ?? '', urls: all };
  });

export type AlertmanagerConfig = z.output<typeof AlertmanagerConfig>;
