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

const Shape = {
  url: HttpUrl,
  headers: Headers.optional(),
  timeout: Duration.pipe(z.number().positive('must be longer than 0').max(MAX_TIMEOUT_MS, 'must be at most 5m')).default(10_000),
};
const allowed = Object.keys(Shape).join(', ');

/**
 * The catalog's top-level `alertmanager:` key: where Switchboard creates and expires silences.
 * `url` is the base URL (with the route prefix, if Alertmanager runs under one); the API lives at `<url>/api/v2`.
 */
export const AlertmanagerConfig = z.strictObject(Shape, {
  error: (issue) =>
    issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')} (allowed: ${allowed})` : undefined,
});

export type AlertmanagerConfig = z.output<typeof AlertmanagerConfig>;
