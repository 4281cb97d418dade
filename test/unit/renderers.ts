/**
 * Every renderer and every reply that shows incident text, driven from one incident. The
 * limits and escaping tests iterate these lists, and check that they name every exported
 * `render*` function and every incident action, so a new one cannot be left out.
 */
import type { KnownBlock } from '@slack/types';
import type { EscalationIncident } from '../../src/alerts/escalation/escalation-store.js';
import type { OnCallCatalog } from '../../src/alerts/escalation/render-oncall.js';
import { renderOnCall } from '../../src/alerts/escalation/render-oncall.js';
import { renderNobodyWarning, renderPageDm, renderReminder } from '../../src/alerts/escalation/render-escalation.js';
import type { IncidentView } from '../../src/alerts/incident-view.js';
import { escapeAlertText } from '../../src/alerts/mrkdwn.js';
import { renderDigest } from '../../src/alerts/render-digest.js';
import { renderIncident } from '../../src/alerts/render-incident.js';
import { mergeResolution, renderTimelineEvent, type TimelineEvent } from '../../src/alerts/render-timeline.js';
import type { ActionDeps, AnyAction } from '../../src/commands/action.js';
import * as incidentActions from '../../src/commands/actions/incident.js';
import { allActions } from '../../src/commands/actions/index.js';
import { isUserError, UserError } from '../../src/commands/errors.js';
import { isIntegrationError } from '../../src/integrations/integration-error.js';
import { renderHelp, renderVerbHelp } from '../../src/commands/help.js';
import { createRegistry } from '../../src/commands/registry.js';
import { renderConfirmation } from '../../src/commands/render-confirmation.js';
import type { Reply } from '../../src/commands/reply.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { renderCertificateReport } from '../../src/jobs/certificate-check-job.js';
import { renderMinimalIncident } from '../../src/alerts/outbox-minimal.js';
import { sections } from '../../src/jobs/job.js';
import { ESCALATION_CATALOG } from '../fixtures/escalation/world.js';

export interface Rendered {
  text: string;
  blocks?: KnownBlock[];
}

/** One incident, the time, and free text (a person's note, a typed target) to render. */
export interface World {
  view: IncidentView;
  now: Date;
  /** Text a person typed or an integration answered: as hostile as the labels. */
  typed: string;
}

const minutesBefore = (now: Date, n: number) => new Date(now.getTime() - n * 60_000);

function timelineEvents(w: World): TimelineEvent[] {
  const fingerprints = w.view.alerts.map((a) => a.fingerprint);
  const resolved = w.view.alerts.filter((a) => a.status === 'resolved').map((a) => a.fingerprint);
  return [
    { kind: 'alerts_firing', fingerprints: [...fingerprints, 'fp-unknown'] },
    { kind: 'alerts_resolved', fingerprints: resolved },
    ...mergeResolution([
      { kind: 'alerts_resolved', fingerprints },
      { kind: 'incident_resolved', by: 'alertmanager' },
    ]),
    { kind: 'incident_resolved', by: w.view.acknowledged?.userId ?? 'U0LEAD' },
    { kind: 'acknowledged', by: w.view.acknowledged?.userId ?? w.typed },
    { kind: 'silenced', silenceId: w.view.silence?.id ?? w.typed, endsAt: w.now, by: w.typed },
    { kind: 'unsilenced', silenceId: w.typed, by: 'alertmanager' },
    { kind: 'unsilenced', silenceId: w.typed, by: w.typed },
    // A run summary is the action's reply: escaped by the action, as it would be.
    { kind: 'run_finished', actionTitle: w.typed, target: w.typed, by: w.typed, status: 'failed', summary: escapeAlertText(w.view.service ?? '', 5_000), ref: w.typed },
    // Targets are catalog mentions; anything else among them is shown as text.
    { kind: 'escalated', level: 2, levels: 4, targets: ['<@U0ONCALL>', '<!subteam^S0LEADS>', 'backend-primary <nobody>', ...Array.from({ length: 60 }, (_, i) => `<@U0ONCALL${i}>`)] },
    { kind: 'reopened' },
    { kind: 'note', by: w.typed, text: w.typed },
  ];
}

function escalationIncident(w: World): EscalationIncident {
  const v = w.view;
  return {
    id: v.id,
    number: v.number,
    status: v.status,
    severity: v.severity as EscalationIncident['severity'],
    title: v.title,
    ...(v.service !== undefined ? { service: v.service } : {}),
    channel: w.typed,
    commonLabels: v.commonLabels,
    groupLabels: v.groupLabels,
    openedAt: v.startedAt ?? new Date(0),
    ...(v.acknowledged ? { acknowledged: v.acknowledged } : {}),
  };
}

const catalog = parseCatalog(ESCALATION_CATALOG, 'escalation.yml', {});
const onCallCatalog: OnCallCatalog = {
  schedules: catalog.schedules,
  escalationPolicies: catalog.escalationPolicies,
  severityPolicies: catalog.severityPolicies,
  routesByPolicy: Object.fromEntries(Object.keys(catalog.escalationPolicies).map((p) => [p, ['payments', 'sre']])),
};
const registry = createRegistry(allActions);

/** Every exported `render*` function, each turned into the messages it makes for one world. */
export const RENDERERS: Record<string, (w: World) => Rendered[]> = {
  renderIncident: (w) => [renderIncident(w.view, w.now)],
  renderTimelineEvent: (w) => timelineEvents(w).map((e) => renderTimelineEvent(e, w.view)),
  renderDigest: (w) => {
    const many = Array.from({ length: 40 + w.view.alerts.length * 20 }, (_, i) => ({ ...w.view, id: `${w.view.id}-${i}`, number: w.view.number + i }));
    return [renderDigest('C0ALERTS', many, minutesBefore(w.now, 10), w.now), renderDigest(w.typed, [w.view], minutesBefore(w.now, 10), w.now)];
  },
  renderPageDm: (w) => [renderPageDm(escalationIncident(w), { level: 2, levels: 4, round: 1, unansweredMs: 900_000 })],
  renderNobodyWarning: (w) => [{ text: renderNobodyWarning({ level: 1, levels: 4, paged: 0 }, [w.typed, ...Object.values(w.view.commonLabels)]) }],
  renderReminder: (w) => [
    { text: renderReminder(escalationIncident(w), w.view.acknowledged ?? { userId: w.typed, at: minutesBefore(w.now, 30) }, w.now, { inThread: true }) },
    { text: renderReminder(escalationIncident(w), { userId: 'U0ONCALL', at: minutesBefore(w.now, 30) }, w.now, { inThread: false }) },
  ],
  renderOnCall: (w) => [{ text: renderOnCall(onCallCatalog, {}, w.now) }],
  renderConfirmation: (w) =>
    allActions.filter((a) => a.risk === 'destructive').map((a) => renderConfirmation(a, w.typed, 'Requests in flight fail.', '6f1c2d3e-4a5b-4c6d-8e7f-901234567890', 5)),
  renderHelp: () => [renderHelp(registry)],
  renderVerbHelp: () => registry.slashActions().map((a) => renderVerbHelp(a)),
  // Plain text by design: what Slack is sent when it refused the full parent.
  renderMinimalIncident: (w) => [
    { text: renderMinimalIncident({ number: w.view.number, alertname: w.view.commonLabels.alertname ?? w.typed, severity: w.view.severity, service: w.view.service ?? w.typed, status: w.view.status }).text },
  ],
  renderCertificateReport: (w) => {
    const findings = w.view.alerts.map((a, i) => ({ service: 'api-gateway', check: w.typed, status: i % 2 ? ('warn' as const) : ('fail' as const), underDays: 7, text: a.annotations.summary ?? w.typed }));
    const text = renderCertificateReport(findings);
    return [{ text, blocks: sections(text) }];
  },
};

/** Deps for the incident actions: the one incident, an Alertmanager that accepts everything. */
function depsFor(w: World): ActionDeps {
  const change = { events: [{ kind: 'acknowledged' }] } as unknown as Awaited<ReturnType<ActionDeps['incidents']['acknowledge']>>;
  const unchanged = { events: [] } as unknown as typeof change;
  return {
    catalog: { services: {} },
    incidents: {
      find: async () => w.view,
      open: async () => Array.from({ length: 30 }, (_, i) => ({ ...w.view, number: w.view.number + i })),
      acknowledge: async () => change,
      resolve: async () => change,
      setSilence: async () => change,
      recordRun: async () => undefined,
      unchanged,
    },
    silencer: {
      create: async () => ({ id: w.view.silence?.id ?? 'a1b2c3d4-0000-4000-8000-000000000001' }),
      expire: async () => undefined,
      get: async () => {
        throw new Error('not used');
      },
      firingAlerts: async () => [{ status: { silencedBy: [] } }],
    },
    now: () => w.now,
    newId: () => '6f1c2d3e-4a5b-4c6d-8e7f-901234567890',
  } as unknown as ActionDeps;
}

/** An action's reply, or, as dispatch shows it, the message of the UserError it threw. */
async function run(action: AnyAction, input: unknown, w: World, deps = depsFor(w)): Promise<Reply> {
  const outcome = await action
    .run({ input: action.input.parse(input), deps, actor: { id: 'U0OPERATOR', name: 'alice', kind: 'user' }, signal: new AbortController().signal, ref: 'r1', progress: () => {} } as never)
    .then((o) => o as { reply: Reply })
    .catch((error: unknown) => {
      if (isUserError(error)) return { reply: { text: error.message } };
      if (isIntegrationError(error)) return { reply: { text: `✗ ${action.title} failed: ${error.message}` } };
      throw error;
    });
  return outcome.reply;
}

/** Each incident action, by id, with every reply it can give about the incident. */
export const INCIDENT_REPLIES: Record<string, (w: World) => Promise<Reply[]>> = {
  'incident.list': async (w) => [await run(incidentActions.incidentList, {}, w)],
  'incident.ack': async (w) => {
    const deps = depsFor(w);
    const unchanged = { ...deps, incidents: { ...deps.incidents, acknowledge: async () => ({ events: [] }) } } as unknown as ActionDeps;
    return [await run(incidentActions.incidentAck, { incident: '42' }, w), await run(incidentActions.incidentAck, { incident: '42' }, w, unchanged)];
  },
  'incident.resolve': async (w) => {
    const deps = depsFor(w);
    const unchanged = { ...deps, incidents: { ...deps.incidents, resolve: async () => ({ events: [] }) } } as unknown as ActionDeps;
    return [await run(incidentActions.incidentResolve, { incident: '42' }, w), await run(incidentActions.incidentResolve, { incident: '42' }, w, unchanged)];
  },
  'silence.create': async (w) => [await run(incidentActions.silenceCreate, { what: '#42', duration: '1h', comment: w.typed.slice(0, 500) }, w)],
  'silence.expire': async (w) => {
    const silenced = { ...w, view: { ...w.view, silence: { id: 'a1b2c3d4-0000-4000-8000-000000000001', endsAt: w.now, createdBy: 'U0ONCALL' } } };
    return [await run(incidentActions.silenceExpire, { silence: '#42' }, w), await run(incidentActions.silenceExpire, { silence: '#42' }, silenced)];
  },
};

/** Errors that quote what a person typed. */
export const TYPED_ERRORS = (typed: string): string[] => [
  new UserError('COMMAND_UNKNOWN', { verb: typed, hint: '' }).message,
  new UserError('SERVICE_NOT_FOUND', { service: typed, hint: '' }).message,
  new UserError('TARGET_NOT_FOUND', { service: 'api-gateway', what: 'breaker', name: typed, known: '`payments`' }).message,
  new UserError('SILENCE_TARGET_INVALID', { what: typed }).message,
];

/** The ids of the actions in src/commands/actions/incident.ts: every one needs an entry above. */
export const incidentActionIds = (): string[] =>
  Object.values(incidentActions)
    .filter((v): v is AnyAction => typeof v === 'object' && v !== null && 'id' in v && 'run' in v)
    .map((a) => a.id);
