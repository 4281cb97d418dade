import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { AlertView, IncidentView, RunbookButton } from '../../src/alerts/incident-view.js';
import { renderDigest } from '../../src/alerts/render-digest.js';
import { INCIDENT_ACTIONS, renderIncident } from '../../src/alerts/render-incident.js';
import { mergeResolution, renderTimelineEvent, type TimelineEvent } from '../../src/alerts/render-timeline.js';
import { decodeButtonValue } from '../../src/commands/button-value.js';
import { validateMessageBlocks } from '../fakes/block-kit-limits.js';

// --- golden files -------------------------------------------------------------------------------

const GOLDEN_DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/** Compares with `test/fixtures/golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites the file instead. */
function expectGolden(name: string, value: unknown): void {
  const file = join(GOLDEN_DIR, `${name}.json`);
  const json = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, json);
    return;
  }
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run UPDATE_GOLDEN=1 npx vitest run test/unit/alerts-render.test.ts and review it`);
  expect(json).toBe(readFileSync(file, 'utf8'));
}

function expectValid(blocks: KnownBlock[] | undefined): void {
  expect(validateMessageBlocks(blocks)).toEqual([]);
}

/** Every `<…>` Slack would parse must be one Switchboard wrote on purpose. */
const ALLOWED_MARKUP = [
  /^<!date\^\d+\^\{[a-z_]+\}(?: \{[a-z_]+\})?\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>$/,
  /^<@[UW][A-Z0-9]+>$/,
  /^<!subteam\^S[A-Z0-9]+>$/,
  /^<#C[A-Z0-9]+>$/,
  /^<https?:\/\/[^\s|<>]+\|(?:Source|Runbook|Alertmanager)>$/,
];

function markupIn(value: unknown): string[] {
  return JSON.stringify(value).match(/<[^>]*>/g) ?? [];
}

function expectOnlyOwnMarkup(value: unknown): void {
  const unexpected = markupIn(value).filter((m) => !ALLOWED_MARKUP.some((re) => re.test(m)));
  expect(unexpected).toEqual([]);
  const text = JSON.stringify(value);
  expect(text).not.toMatch(/[@＠](?:here|channel|everyone)/i);
}

// --- fixtures -----------------------------------------------------------------------------------

const NOW = new Date('2025-03-04T10:30:00Z');
const ID = '6f1c2d3e-4a5b-4c6d-8e7f-901234567890';
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

function alert(instance: string, overrides: Partial<AlertView> = {}): AlertView {
  return {
    fingerprint: `fp-${instance}`,
    status: 'firing',
    labels: { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', job: 'api-gateway', instance },
    annotations: { summary: `Service ${instance} is down`, description: 'api-gateway has been down for more than 1 minute' },
    startsAt: minutes(-20),
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    ...overrides,
  };
}

const BUTTONS: RunbookButton[] = [
  { actionId: 'service.health', label: 'Check health', input: { service: 'api-gateway' } },
  {
    actionId: 'service.restart',
    label: 'Restart api-gateway',
    input: { service: 'api-gateway' },
    confirm: { title: 'Restart api-gateway?', text: 'docker-compose restart of api-gateway; requests in flight fail.' },
  },
  {
    actionId: 'circuit.reset',
    label: 'Reset payments breaker',
    input: { service: 'api-gateway', breaker: 'payments' },
    confirm: { title: 'Reset breaker?', text: 'Deletes api-gateway:circuit-breaker:payments.' },
  },
  {
    actionId: 'circuit.reset',
    label: 'Reset search breaker',
    input: { service: 'api-gateway', breaker: 'search' },
    confirm: { title: 'Reset breaker?', text: 'Deletes api-gateway:circuit-breaker:search.' },
  },
];

function view(overrides: Partial<IncidentView> = {}): IncidentView {
  const alerts = overrides.alerts ?? [alert('gw-1:5000'), alert('gw-2:5000'), alert('gw-3:5000', { status: 'resolved', endsAt: minutes(-5) })];
  const firing = alerts.filter((a) => a.status === 'firing').length;
  return {
    id: ID,
    number: 42,
    status: 'firing',
    severity: 'critical',
    title: 'ServiceDown',
    service: 'api-gateway',
    receiver: 'switchboard',
    groupKey: '{}:{alertname="ServiceDown", service="api-gateway"}',
    groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
    commonLabels: { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical', job: 'api-gateway' },
    commonAnnotations: { description: 'api-gateway has been down for more than 1 minute', runbook_url: 'https://runbooks.example.com/service-down' },
    alerts,
    counts: { firing, resolved: alerts.length - firing },
    truncatedAlerts: 0,
    startedAt: minutes(-20),
    escalation: { level: 1, levels: 4, nextAt: minutes(12) },
    links: {
      alertmanager: 'http://alertmanager:9093',
      runbook: 'https://runbooks.example.com/service-down',
      generator: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    },
    buttons: BUTTONS,
    ...overrides,
  };
}

const acknowledged = view({ acknowledged: { userId: 'U0ONCALL1', at: minutes(-3) }, escalation: { level: 2, levels: 4 } });
const silenced = view({ silence: { id: 'a1b2c3d4-0000-4000-8000-000000000001', endsAt: minutes(120), createdBy: 'U0ONCALL1' } });
const resolvedView = view({
  status: 'resolved',
  alerts: [alert('gw-1:5000', { status: 'resolved', endsAt: minutes(-1) }), alert('gw-2:5000', { status: 'resolved', endsAt: minutes(-1) })],
  resolvedAt: minutes(-1),
  escalation: { level: 1, levels: 4 },
});

const HUGE = 'x'.repeat(10_240);
const storm = view({
  alerts: Array.from({ length: 500 }, (_, i) =>
    alert(`gw-${i}:5000`, { annotations: { summary: `down ${i} ${HUGE}`, description: HUGE }, labels: { ...alert('').labels, instance: `gw-${i}:5000`, pod: `api-${i}-${HUGE}` } }),
  ),
  commonAnnotations: { summary: HUGE, description: HUGE, runbook_url: 'https://runbooks.example.com/service-down' },
  truncatedAlerts: 1_500,
});

const INJECTION = '<!channel> @here <@U123> <https://evil.example|click> *bold* `code` <#C999> <!subteam^S1> &amp;';
const injected = view({
  title: `ServiceDown ${INJECTION}`,
  service: '<!everyone>',
  severity: 'critical <!here>',
  commonLabels: { alertname: 'ServiceDown', team: INJECTION },
  commonAnnotations: { summary: INJECTION, description: `${INJECTION}\n@everyone`, runbook_url: 'javascript:alert(1)' },
  alerts: [
    alert('a', { labels: { instance: INJECTION, 'x`y': '`' }, annotations: { summary: `@channel ${INJECTION}` }, generatorURL: 'https://evil.example|click>' }),
    alert('b', { fingerprint: '<!here>' }),
  ],
  links: { alertmanager: 'data:text/html,<script>', runbook: 'javascript:alert(1)', generator: 'https://user:pw@evil.example/' },
  silence: { id: '<!channel>', endsAt: minutes(60), createdBy: '<!here>' },
  acknowledged: { userId: '<!channel>', at: minutes(-1) },
});

const actionIds = (blocks: KnownBlock[]) =>
  blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => ('action_id' in e ? e.action_id : undefined)) : []));

// --- renderIncident -----------------------------------------------------------------------------

describe('renderIncident', () => {
  it.each<[string, IncidentView]>([
    ['incident-firing', view()],
    ['incident-acknowledged', acknowledged],
    ['incident-silenced', silenced],
    ['incident-resolved', resolvedView],
    ['incident-resolved-by-user', { ...resolvedView, resolvedBy: { userId: 'U0LEAD', at: minutes(-2) }, silence: silenced.silence! }],
    ['incident-single-alert', view({ alerts: [alert('gw-1:5000')], commonLabels: alert('gw-1:5000').labels, commonAnnotations: {}, escalation: undefined, buttons: [] })],
    ['incident-500-alerts', storm],
    ['incident-injection', injected],
  ])('%s matches its golden file and Slack limits', (name, v) => {
    const rendered = renderIncident(v, NOW);
    expectValid(rendered.blocks);
    expectGolden(name, rendered);
  });

  it.each<[string, IncidentView, (string | undefined)[]]>([
    ['firing', view(), ['inc:ack', 'inc:resolve', 'inc:silence', 'act:service.health', 'act:service.restart', 'act:circuit.reset', 'act:circuit.reset']],
    ['acknowledged', acknowledged, ['inc:resolve', 'inc:silence', 'act:service.health', 'act:service.restart', 'act:circuit.reset', 'act:circuit.reset']],
    ['silenced', silenced, ['inc:ack', 'inc:resolve', 'inc:unsilence', 'act:service.health', 'act:service.restart', 'act:circuit.reset', 'act:circuit.reset']],
    ['resolved', resolvedView, []],
    ['resolved while silenced', { ...resolvedView, silence: silenced.silence! }, ['inc:unsilence']],
  ])('offers the right buttons when %s', (_name, v, expected) => {
    expect(actionIds(renderIncident(v, NOW).blocks)).toEqual(expected);
  });

  it('puts a second button of the same action in another row, as Slack wants action_ids unique per block', () => {
    const rows = renderIncident(view(), NOW).blocks.filter((b) => b.type === 'actions');
    expect(rows.map((r) => r.block_id)).toEqual(['incident-actions', 'incident-actions-2']);
  });

  it('gives every button a small versioned value with the incident id and catalog ids only', () => {
    const buttons = renderIncident(view(), NOW).blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    const values = buttons.map((b) => decodeButtonValue('value' in b ? b.value : undefined));
    expect(values).toEqual([
      { v: 1, i: ID, in: {} },
      { v: 1, i: ID, in: {} },
      { v: 1, i: ID, in: {} },
      { v: 1, i: ID, in: { service: 'api-gateway' } },
      { v: 1, i: ID, in: { service: 'api-gateway' } },
      { v: 1, i: ID, in: { service: 'api-gateway', breaker: 'payments' } },
      { v: 1, i: ID, in: { service: 'api-gateway', breaker: 'search' } },
    ]);
  });

  it('asks for confirmation exactly where the button says so', () => {
    const buttons = renderIncident(view(), NOW).blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    const confirmed = buttons.filter((b) => 'confirm' in b && b.confirm).map((b) => ('action_id' in b ? b.action_id : ''));
    expect(confirmed).toEqual(['act:service.restart', 'act:circuit.reset', 'act:circuit.reset']);
  });

  it.each<[string, IncidentView, string]>([
    ['firing', view(), '🔴 FIRING [critical] ServiceDown — api-gateway (#42)'],
    ['acknowledged', acknowledged, '🔴 ACKNOWLEDGED [critical] ServiceDown — api-gateway (#42)'],
    ['resolved', resolvedView, '✅ RESOLVED [critical] ServiceDown — api-gateway (#42)'],
    ['a warning without service', view({ severity: 'warning', service: undefined }), '🟡 FIRING [warning] ServiceDown (#42)'],
  ])('has a short fallback text when %s', (_name, v, text) => {
    expect(renderIncident(v, NOW).text).toBe(text);
  });

  it('stays within limits and counts what it leaves out, for 500 alerts with 10 KB annotations', () => {
    const { text, blocks } = renderIncident(storm, NOW);
    expectValid(blocks);
    expect(text.length).toBeLessThan(300);
    const json = JSON.stringify(blocks);
    expect(json).toContain('500 firing · 0 resolved\\n+1,500 more not shown by Alertmanager');
    expect(json).toMatch(/…and 4\d\d more/);
    expect(json.length).toBeLessThan(16_000);
  });

  it('lets no label or annotation ping, link or inject markup', () => {
    const rendered = renderIncident(injected, NOW);
    expectValid(rendered.blocks);
    expectOnlyOwnMarkup(rendered);
    const json = JSON.stringify(rendered);
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).toContain('*bold*');
    expect(json).not.toContain('javascript:');
    expect(json).not.toContain('evil.example|click>');
  });

  it('never sends Slack an empty text, whatever the annotations and labels hold', () => {
    const v = view({
      commonAnnotations: { summary: '\u0000\u0007', description: ' \u202E ' },
      alerts: [alert('a', { annotations: {} })],
      buttons: [{ actionId: 'service.health', label: ' ', input: {}, confirm: { title: '', text: '' } }],
    });
    const { blocks } = renderIncident(v, NOW);
    expectValid(blocks);
    expect(blocks.map((b) => b.block_id)).not.toContain('incident-summary');
  });

  it('stays valid and harmless for random nasty text in every field', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const parts = ['<', '>', '&', '@', 'here', 'channel', '!', '|', '`', '*', '\n', '\u0000', '\u202E', '🔥', '\uD800', 'é', 'x'.repeat(50), '<!channel>', '<@U1>', '&amp;'];
    const nasty = (n: number) => Array.from({ length: Math.floor(random() * n) }, () => parts[Math.floor(random() * parts.length)]).join('');
    for (let i = 0; i < 200; i++) {
      const v = view({
        title: nasty(80),
        service: nasty(10),
        severity: nasty(5),
        commonLabels: { alertname: nasty(5), [`l${i}`]: nasty(40) },
        commonAnnotations: { summary: nasty(200), description: nasty(2_000) },
        alerts: Array.from({ length: 1 + (i % 13) }, (_, j) => alert(`i${j}`, { labels: { instance: nasty(30), x: nasty(30) }, annotations: { summary: nasty(60) } })),
      });
      const rendered = renderIncident(v, NOW);
      expect(validateMessageBlocks(rendered.blocks)).toEqual([]);
      expectOnlyOwnMarkup(rendered);
      const note = renderTimelineEvent({ kind: 'note', by: 'U1AB', text: nasty(3_000) }, v);
      expectOnlyOwnMarkup(note);
      expect(note.text.length).toBeLessThanOrEqual(3_000);
    }
  });

  it('renders the same input the same way (it is pure)', () => {
    expect(renderIncident(view(), NOW)).toEqual(renderIncident(view(), NOW));
  });
});

// --- renderTimelineEvent ------------------------------------------------------------------------

describe('renderTimelineEvent', () => {
  const events: Record<string, TimelineEvent> = {
    alerts_firing: { kind: 'alerts_firing', fingerprints: ['fp-gw-1:5000', 'fp-gw-2:5000', 'fp-unknown'] },
    alerts_resolved: { kind: 'alerts_resolved', fingerprints: ['fp-gw-3:5000'] },
    alerts_resolved_by_reconciliation: {
      kind: 'alerts_resolved',
      fingerprints: ['fp-gw-3:5000'],
      checked: { at: minutes(5), alertmanagers: ['http://alertmanager-0:9093', 'http://alertmanager-1:9093'] },
    },
    incident_resolved_by_alertmanager: { kind: 'incident_resolved', by: 'alertmanager' },
    incident_resolved_by_user: { kind: 'incident_resolved', by: 'U0LEAD' },
    acknowledged: { kind: 'acknowledged', by: 'U0ONCALL1' },
    silenced: { kind: 'silenced', silenceId: 'a1b2c3d4-0000-4000-8000-000000000001', endsAt: minutes(120), by: 'U0ONCALL1' },
    unsilenced_by_user: { kind: 'unsilenced', silenceId: 'a1b2c3d4-0000-4000-8000-000000000001', by: 'U0ONCALL1' },
    unsilenced_expired: { kind: 'unsilenced', silenceId: 'a1b2c3d4-0000-4000-8000-000000000001', by: 'alertmanager' },
    run_succeeded: {
      kind: 'run_finished',
      actionTitle: 'Restart service',
      target: 'api-gateway',
      by: 'U0ONCALL1',
      status: 'succeeded',
      summary: 'Restarted `api-gateway` in 4.2s; health: ✓ gateway — 12ms — HTTP 200',
    },
    run_failed_by_automation: {
      kind: 'run_finished',
      actionTitle: 'Restart service',
      target: 'api-gateway',
      by: 'automation gateway-critical',
      status: 'failed',
      summary: 'docker refused: container &lt;proxy&gt; not found',
      ref: '7f3a9c',
    },
    escalated: { kind: 'escalated', level: 2, levels: 4, targets: ['<@U0SENIOR>', '<!subteam^S0614TZR7>', '<!channel>', '@here'] },
    escalated_levels_due_together: {
      kind: 'escalated',
      level: 2,
      levels: 4,
      targets: ['<@U0ONCALL1>', '<@U0SENIOR>'],
      due: [
        { level: 1, targets: ['<@U0ONCALL1>'] },
        { level: 2, targets: ['<@U0SENIOR>', '<!channel>'] },
      ],
    },
    reopened: { kind: 'reopened' },
    note: { kind: 'note', by: 'U0ONCALL1', text: 'Rolled back deploy 1.4.2 <!channel> @here <https://evil.example|see>' },
  };

  it('renders every kind of event as the golden file says, within limits', () => {
    const rendered = Object.fromEntries(Object.entries(events).map(([name, event]) => [name, renderTimelineEvent(event, view())]));
    for (const r of Object.values(rendered)) {
      expectValid(r.blocks);
      expectOnlyOwnMarkup(r);
    }
    expectGolden('timeline-events', rendered);
  });

  it('lists ten alerts that joined, then counts the rest', () => {
    const { blocks } = renderTimelineEvent({ kind: 'alerts_firing', fingerprints: storm.alerts.map((a) => a.fingerprint) }, storm);
    expectValid(blocks);
    expect(JSON.stringify(blocks)).toMatch(/…and 49\d more/);
  });

  it('cuts a long run summary without leaving half a link or entity', () => {
    const summary = `${'a'.repeat(2_840)} &amp; <https://example.com/${'p'.repeat(100)}|link>`;
    const { text, blocks } = renderTimelineEvent({ kind: 'run_finished', actionTitle: 'Backup', by: 'U1AB', status: 'succeeded', summary }, view());
    expectValid(blocks);
    expect(text.endsWith('…')).toBe(true);
    expect(text).not.toMatch(/<[^>]*$/);
    expect(text).not.toMatch(/&[a-z]*…$/);
  });

  it('says a resolution by Alertmanager once, listing the alerts that resolved by their labels', () => {
    const single = view({ alerts: [alert('gw-1:5000', { status: 'resolved', endsAt: minutes(-1) })], commonLabels: { ...alert('gw-1:5000').labels }, status: 'resolved' });
    const merged = mergeResolution([
      { kind: 'alerts_resolved', fingerprints: ['fp-gw-1:5000'] },
      { kind: 'incident_resolved', by: 'alertmanager' },
    ]);
    expect(merged).toEqual([{ kind: 'incident_resolved', by: 'alertmanager', fingerprints: ['fp-gw-1:5000'] }]);
    const reply = renderTimelineEvent(merged[0]!, single);
    expectValid(reply.blocks);
    expectGolden('timeline-resolution', reply);
    // An alert alone in its group shares every label with it: its own labels still name it.
    expect(JSON.stringify(reply.blocks)).toContain('✅ `instance=gw-1:5000` `job=api-gateway`');
    expect(JSON.stringify(reply.blocks)).not.toContain('fp-gw-1');
    // A person's resolve, or alerts resolving while others fire, stay their own replies.
    expect(mergeResolution([{ kind: 'alerts_resolved', fingerprints: ['a'] }, { kind: 'incident_resolved', by: 'U0LEAD' }])).toHaveLength(2);
  });

  it('shows escalation targets that are not catalog mentions as text', () => {
    const { text } = renderTimelineEvent(events.escalated!, view());
    expect(text).toBe('📣 Escalated to level 2 of 4: <@U0SENIOR> <!subteam^S0614TZR7> &lt;!channel&gt; @\u200Dhere');
  });
});

// --- renderDigest -------------------------------------------------------------------------------

describe('renderDigest', () => {
  const incident = (number: number, severity: string, status: 'firing' | 'resolved' = 'firing') => ({
    id: `00000000-0000-4000-8000-${String(number).padStart(12, '0')}`,
    number,
    title: number % 2 ? 'ServiceDown' : 'HighErrorRate <!here>',
    service: number % 3 ? 'api-gateway' : undefined,
    severity,
    counts: { firing: status === 'firing' ? number % 7 + 1 : 0, resolved: number % 2 },
    status,
  });

  it('lists a few incidents, most severe first, as the golden file says', () => {
    const rendered = renderDigest('C0ALERTS', [incident(7, 'warning'), incident(8, 'critical'), incident(9, 'info', 'resolved'), incident(10, 'critical')], minutes(-12), NOW);
    expectValid(rendered.blocks);
    expectOnlyOwnMarkup(rendered);
    expectGolden('digest', rendered);
  });

  it('lists a thousand incidents in one message: the most severe with a button, the rest as lines', () => {
    const incidents = Array.from({ length: 1_000 }, (_, i) => incident(i + 1, ['critical', 'warning', 'info'][i % 3]!));
    const { text, blocks } = renderDigest('C0ALERTS', incidents, minutes(-12), NOW);
    expectValid(blocks);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(text).toBe('⚡ 1,000 new incidents in <#C0ALERTS> in the last 12m, 334 critical');
    const openThread = blocks.flatMap((b) => (b.type === 'section' && b.accessory && 'action_id' in b.accessory ? [b.accessory] : []));
    expect(openThread).toHaveLength(20);
    expect(openThread.every((b) => b.action_id === INCIDENT_ACTIONS.openThread)).toBe(true);
    expect(decodeButtonValue('value' in openThread[0]! ? openThread[0].value : undefined)).toEqual({ v: 1, i: incidents[0]!.id, in: {} });
    // Every incident is named somewhere in the message.
    const all = JSON.stringify(blocks);
    for (let n = 1; n <= 1_000; n++) expect(all, `#${n}`).toContain(`*#${n}*`);
    expect(all).not.toContain('…and');
  });

  it('counts what does not fit even as lines', () => {
    const incidents = Array.from({ length: 3_000 }, (_, i) => incident(i + 1, 'warning'));
    const { blocks } = renderDigest('C0ALERTS', incidents, minutes(-12), NOW);
    expectValid(blocks);
    expect(blocks.length).toBeLessThanOrEqual(50);
    const more = JSON.stringify(blocks.at(-1));
    const hidden = Number(/…and ([\d,]+) more/.exec(more)![1]!.replace(/,/g, ''));
    const named = new Set(JSON.stringify(blocks).match(/\*#\d+\*/g));
    expect(named.size + hidden).toBe(3_000);
  });

  it('lists an incident given twice once', () => {
    const { blocks } = renderDigest('C0ALERTS', [incident(1, 'critical'), incident(1, 'critical')], minutes(-1), NOW);
    expectValid(blocks);
    expect(blocks.filter((b) => b.type === 'section')).toHaveLength(1);
  });
});
