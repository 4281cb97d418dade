import { z } from 'zod';
import { ActionId, CatalogId } from '../config/catalog-id.js';
import { Duration } from '../config/duration.js';

/**
 * Catalog `routes:` and `defaultRoute:`: which channel, escalation policy, runbook buttons and
 * automatic remediation apply to which alerts. The first route whose matchers all hold wins;
 * alerts no route matches go to `defaultRoute`.
 */

/** A channel id (public `C…`, private `G…`) or a `#name` (resolved to an id at start). */
export const SlackChannel = z
  .string()
  .regex(
    /^(?:[CG][A-Z0-9]{2,}|#[\p{Ll}\p{Lo}\p{N}_-]{1,80})$/u,
    'must be a channel id such as C0123ABCD (channel details → About) or a #channel-name in lowercase',
  );

/** Prometheus label names. */
const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name such as severity or service');

/** A regex matched against the whole label value, like Alertmanager's `=~` (which is anchored too). */
const AnchoredRegex = z.string().transform((source, ctx) => {
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    ctx.addIssue({ code: 'custom', message: `"${source}" is not a valid regular expression: ${reason}` });
    return z.NEVER;
  }
});

/**
 * `z.record` without a prototype: zod's own record assigns keys to a plain object, which drops a
 * key named `__proto__`, so a route matching on such a label would match every alert. Here every
 * key is an own entry of a null-prototype object, and lookups never find inherited members.
 */
function ownRecord<K extends z.ZodType<string, string>, V extends z.ZodType>(key: K, value: V) {
  return z.unknown().transform((input, ctx) => {
    const out = Object.create(null) as Record<string, z.output<V>>;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      ctx.addIssue({ code: 'custom', message: `Invalid input: expected record, received ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input}`, input });
      return out;
    }
    for (const name of Object.keys(input)) {
      const k = key.safeParse(name);
      if (!k.success) for (const issue of k.error.issues) ctx.addIssue({ code: 'custom', message: `"${name}" is not a valid id: ${issue.message}`, path: [name], input: name });
      const v = value.safeParse((input as Record<string, unknown>)[name]);
      if (!v.success) for (const issue of v.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [name, ...issue.path] as PropertyKey[], input: issue.input });
      else out[name] = v.data as z.output<V>;
    }
    return out;
  });
}

/** Buttons per alertname; `"*"` lists the buttons every alert of the route gets. */
const ButtonsConfig = ownRecord(
  z.string().min(1, 'must be an alertname or "*"'),
  z.array(ActionId).max(20, 'list at most 20 buttons per alertname (Slack shows 25 per row, and the incident needs a few)'),
);

export const AutomationConfig = z
  .object({
    alertname: z.string().min(1),
    action: ActionId,
    /** How long the alert must keep firing, unacknowledged, before the action runs. */
    after: Duration,
    /** At most this many automatic runs of this rule per hour, so a flapping alert cannot restart a service in a loop. */
    maxPerHour: z.number().int().min(1).max(12, 'must be at most 12 (one run every 5 minutes)').default(1),
  })
  .strict();

export const RouteConfig = z
  .object({
    name: CatalogId,
    /** Every listed label must equal its value; a label the alert lacks counts as "" (as in Alertmanager). */
    match: ownRecord(LabelName, z.string()).default(() => Object.create(null) as Record<string, string>),
    /** Anchored regexes (JavaScript syntax) on label values; checked when the catalog loads. */
    matchRe: ownRecord(LabelName, AnchoredRegex).default(() => Object.create(null) as Record<string, RegExp>),
    channel: SlackChannel,
    /** An escalation policy name. */
    escalation: CatalogId.optional(),
    /** The catalog service the runbook buttons act on; default: the alert's `service` label when it names one. */
    service: CatalogId.optional(),
    buttons: ButtonsConfig.default(() => Object.create(null) as Record<string, string[]>),
    automations: z.array(AutomationConfig).max(20).default([]),
    /** Reserved: Alertmanager's "keep looking after a match". Only `false` (the only behaviour) is accepted. */
    continue: z.literal(false, { message: 'continue: true is not supported; the first matching route wins' }).optional(),
  })
  .strict();

export const RoutesConfig = z
  .array(RouteConfig)
  .max(500)
  .superRefine((routes, ctx) => {
    const seen = new Map<string, number>();
    routes.forEach((route, index) => {
      const first = seen.get(route.name);
      if (first === undefined) seen.set(route.name, index);
      else ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${route.name}" is already the name of routes[${first}]; route names must be unique` });
    });
  });

export const DefaultRouteConfig = z
  .object({
    channel: SlackChannel,
    escalation: CatalogId.optional(),
    /** Buttons for alerts no route matches, per alertname or `"*"`; the service comes from the alert's `service` label. */
    buttons: ButtonsConfig.default(() => Object.create(null) as Record<string, string[]>),
  })
  .strict();

export type RouteConfig = z.output<typeof RouteConfig>;
export type RoutesConfig = z.output<typeof RoutesConfig>;
export type DefaultRouteConfig = z.output<typeof DefaultRouteConfig>;
export type AutomationConfig = z.output<typeof AutomationConfig>;
