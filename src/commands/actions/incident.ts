import { z } from 'zod';
import type { IncidentView } from '../../alerts/incident-view.js';
import { codeSpan, escapeAlertText, mentionUser, slackDate } from '../../alerts/mrkdwn.js';
import { Duration, formatDuration } from '../../config/duration.js';
import { formatMatchers, matchersFromLabels } from '../../integrations/alertmanager/index.js';
import { defineAction, type ActionDeps } from '../action.js';
import { UserError } from '../errors.js';

/** `42`, `#42`, or the incident id a button carries. */
const IncidentRef = z.string().regex(/^#?\d{1,9}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be an incident number such as 42');
const IncidentInput = z.object({ incident: IncidentRef }).strict();

export async function requireIncident(deps: ActionDeps, ref: string): Promise<IncidentView> {
  const incident = await deps.incidents.find(ref);
  if (!incident) throw new UserError('INCIDENT_NOT_FOUND', { ref: ref.replace(/^#/, '') });
  return incident;
}

/**
 * `#42 ServiceDown (`api-gateway`)`. Title and service come from alert labels, which anyone who
 * writes a Prometheus rule controls: escaped, so they cannot mention, link or close the code span.
 */
const label = (i: Pick<IncidentView, 'number' | 'title' | 'service'>) => `#${i.number} ${escapeAlertText(i.title, 150)}${i.service ? ` (${codeSpan(i.service, 80)})` : ''}`;

export const incidentList = defineAction({
  id: 'incident.list',
  title: 'List incidents',
  description: 'the open incidents, newest first',
  risk: 'read',
  permission: 'read',
  input: z.object({}).strict(),
  timeoutMs: 10_000,
  target: () => undefined,
  slash: { verb: 'incidents', args: [], examples: ['incidents'] },
  async run({ deps }) {
    const open = await deps.incidents.open(30);
    if (open.length === 0) return { ok: true, summary: 'no open incidents', reply: { text: '✓ No open incidents.' } };
    const lines = open.map((i) => {
      const ack = i.acknowledged ? ` — ack ${mentionUser(i.acknowledged.userId)}` : ' — *not acknowledged*';
      const since = i.startedAt ? ` since ${slackDate(i.startedAt)}` : ' (start unknown)';
      return `• [${escapeAlertText(i.severity, 20)}] ${label(i)} — ${i.counts.firing} firing${since}${ack}${i.silence ? ' — silenced' : ''}`;
    });
    return { ok: true, summary: `${open.length} open`, reply: { text: [`*${open.length} open incident${open.length === 1 ? '' : 's'}*`, ...lines].join('\n') } };
  },
});

export const incidentAck = defineAction({
  id: 'incident.ack',
  title: 'Acknowledge',
  description: 'acknowledge an incident: escalation stops and the thread says who has it',
  risk: 'change',
  permission: 'operate',
  input: IncidentInput,
  timeoutMs: 10_000,
  target: (input) => input.incident,
  slash: { verb: 'ack', args: [{ name: 'incident' }], examples: ['ack 42'] },
  async run({ input, deps, actor }) {
    const incident = await requireIncident(deps, input.incident);
    const result = await deps.incidents.acknowledge(incident.id, actor.id);
    if (result.events.length > 0) return { ok: true, summary: `acknowledged #${incident.number}`, reply: { text: `✓ You acknowledged ${label(incident)}.` } };
    const why = incident.status === 'resolved' ? 'it is resolved' : `${incident.acknowledged ? mentionUser(incident.acknowledged.userId) : 'someone'} already acknowledged it`;
    return { ok: true, summary: `#${incident.number} unchanged: ${why}`, reply: { text: `${label(incident)} is unchanged: ${why}.` } };
  },
});

export const incidentResolve = defineAction({
  id: 'incident.resolve',
  title: 'Resolve',
  description: 'resolve an incident in Switchboard (Alertmanager may still fire: the answer says so)',
  risk: 'change',
  permission: 'operate',
  input: IncidentInput,
  timeoutMs: 15_000,
  target: (input) => input.incident,
  slash: { verb: 'resolve', args: [{ name: 'incident' }], examples: ['resolve 42'] },
  async run({ input, deps, actor, signal }) {
    const incident = await requireIncident(deps, input.incident);
    const result = await deps.incidents.resolve(incident.id, actor.id);
    if (result.events.length === 0) return { ok: true, summary: `#${incident.number} already resolved`, reply: { text: `${label(incident)} is already resolved.` } };
    const stillFiring = await firingInAlertmanager(deps, incident, signal);
    const warning = stillFiring > 0 ? ` Alertmanager still fires ${stillFiring} alert${stillFiring === 1 ? '' : 's'} of this group; if they keep firing the next notification is only recorded, and a new alert opens the incident again.` : '';
    return { ok: true, summary: `resolved #${incident.number}${stillFiring ? ` (${stillFiring} still firing)` : ''}`, reply: { text: `✓ You resolved ${label(incident)}.${warning}` } };
  },
});

async function firingInAlertmanager(deps: ActionDeps, incident: IncidentView, signal: AbortSignal): Promise<number> {
  if (!deps.silencer || Object.keys(incident.groupLabels).length === 0) return 0;
  // Not knowing is not a reason to refuse a resolve (nor are group labels Alertmanager cannot
  // match, such as an empty value); the thread already shows the alerts.
  try {
    const alerts = await deps.silencer.firingAlerts(matchersFromLabels({ ...incident.groupLabels }), { signal });
    return alerts.filter((a) => a.status.silencedBy.length === 0).length;
  } catch {
    return 0;
  }
}

/** Silence durations people pick: 1h, 4h, 24h from the buttons, anything up to 30 days from /ops. */
const SilenceDuration = Duration.pipe(z.number().min(60_000, 'must be at least 1m').max(30 * 86_400_000, 'must be at most 30d'));

export const silenceCreate = defineAction({
  id: 'silence.create',
  title: 'Silence',
  description: 'silence alerts in Alertmanager: an incident (#42), a service, or label=value,…',
  risk: 'change',
  permission: 'operate',
  input: z
    .object({
      what: z.string().min(1).max(500),
      duration: SilenceDuration,
      comment: z.string().max(500).optional(),
    })
    .strict(),
  timeoutMs: 20_000,
  target: (input) => input.what,
  slash: {
    verb: 'silence',
    args: [{ name: 'what' }, { name: 'duration' }, { name: 'comment', optional: true, rest: true }],
    examples: ['silence #42 4h deploy in progress', 'silence api-gateway 1h', 'silence alertname=DiskFull,service=selextract 24h'],
  },
  async run({ input, deps, actor, signal }) {
    const silencer = requireSilencer(deps);
    const incident = /^#?\d+$|^[0-9a-f-]{36}$/.test(input.what) ? await requireIncident(deps, input.what) : undefined;
    const labels = incident ? { ...incident.groupLabels } : parseSilenceTarget(input.what, deps);
    const matchers = matchersFromLabels(labels);
    const startsAt = deps.now();
    const endsAt = new Date(startsAt.getTime() + input.duration);
    const comment = input.comment ?? (incident ? `Incident #${incident.number} silenced from Slack` : 'Silenced from Slack');
    const { id } = await silencer.create({ matchers, startsAt, endsAt, createdBy: `slack:${actor.name ?? actor.id}`, comment }, { signal });
    if (incident) await deps.incidents.setSilence(incident.id, { silenceId: id, endsAt, by: actor.id });
    const until = slackDate(endsAt);
    return {
      ok: true,
      summary: `silence ${id} on ${formatMatchers(matchers)} for ${formatDuration(input.duration)}`,
      reply: { text: `🔕 Silenced ${escapeAlertText(formatMatchers(matchers), 1_000)} until ${until} (silence ${codeSpan(id, 60)}). ${codeSpan(`/ops unsilence ${id}`, 80)} lifts it.`, public: true },
    };
  },
});

export const silenceExpire = defineAction({
  id: 'silence.expire',
  title: 'Unsilence',
  description: 'lift an Alertmanager silence, by its id or by the incident it covers (#42)',
  risk: 'change',
  permission: 'operate',
  input: z.object({ silence: z.string().regex(/^#?\d{1,9}$|^[0-9a-f-]{36}$/, 'must be a silence id or an incident number') }).strict(),
  timeoutMs: 20_000,
  target: (input) => input.silence,
  slash: { verb: 'unsilence', args: [{ name: 'silence' }], examples: ['unsilence 1f0c7c3e-8c4e-4a4e-9d5b-3c1d2a0b9e7f', 'unsilence #42'] },
  async run({ input, deps, actor, signal }) {
    const silencer = requireSilencer(deps);
    const byIncident = /^#?\d+$/.test(input.silence) ? await requireIncident(deps, input.silence) : await deps.incidents.find(input.silence);
    const silenceId = byIncident?.silence?.id ?? input.silence;
    if (!/^[0-9a-f-]{36}$/.test(silenceId)) throw new UserError('INCIDENT_NOT_SILENCED', { ref: input.silence.replace(/^#/, '') });
    await silencer.expire(silenceId, { signal });
    if (byIncident) await deps.incidents.setSilence(byIncident.id, null, actor.id);
    return { ok: true, summary: `expired ${silenceId}`, reply: { text: `🔔 Lifted silence ${codeSpan(silenceId, 60)}.`, public: true } };
  },
});

function requireSilencer(deps: ActionDeps) {
  if (!deps.silencer) throw new UserError('ALERTMANAGER_NOT_CONFIGURED', {});
  return deps.silencer;
}

/** `api-gateway` (a catalog service) or `label=value,label=value`. */
function parseSilenceTarget(what: string, deps: ActionDeps): Record<string, string> {
  if (Object.hasOwn(deps.catalog.services, what)) return { service: what };
  const labels: Record<string, string> = {};
  for (const part of what.split(',')) {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.+)$/.exec(part.trim());
    if (!match) throw new UserError('SILENCE_TARGET_INVALID', { what });
    labels[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return labels;
}
