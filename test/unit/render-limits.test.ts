/**
 * Every renderer and every incident reply, against Slack's limits and for escaping: random
 * hostile incidents (fast-check) through all of them, and one incident with markup in every
 * label and annotation through all of them. The lists come from test/unit/renderers.ts, which
 * is checked to name every exported `render*` function and every incident action.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertView, IncidentView } from '../../src/alerts/incident-view.js';
import { validateMessage } from '../fakes/block-kit-limits.js';
import { INCIDENT_REPLIES, incidentActionIds, RENDERERS, TYPED_ERRORS, type Rendered, type World } from './renderers.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const NOW = new Date('2025-03-04T10:30:00Z');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

// --- what Slack would act on ----------------------------------------------------------------

/** Every `<…>` Slack would parse must be one Switchboard wrote on purpose. */
const OWN_MARKUP = [
  /^<!date\^\d+\^\{[a-z_]+\}(?: \{[a-z_]+\})?\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>$/,
  /^<@U0[A-Z0-9]+>$/,
  /^<!subteam\^S0[A-Z0-9]+>$/,
  /^<#C0ALERTS>$/,
  /^<https?:\/\/[^\s|<>]+\|(?:Source|Runbook|Alertmanager)>$/,
];

function strayMarkup(texts: readonly string[]): string[] {
  return texts.flatMap((t) => t.match(/<[^>]*>/g) ?? []).filter((m) => !OWN_MARKUP.some((re) => re.test(m)));
}

/** Every text Slack parses as mrkdwn: the fallback text and mrkdwn text objects (plain_text shows `<…>` as typed). */
function textsOf(message: Rendered): string[] {
  const out = [message.text];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      else Object.values(o).forEach(walk);
    }
  };
  walk(message.blocks);
  return out;
}

function expectSafe(name: string, message: Rendered): void {
  expect(validateMessage(message), `${name}: ${JSON.stringify(message).slice(0, 400)}`).toEqual([]);
  const texts = textsOf(message);
  expect(strayMarkup(texts), name).toEqual([]);
  // `@here` and friends notify only as `<!here>`, which escaping already stops; a joiner keeps
  // old clients from linking the bare word too.
  expect(texts.join('\n'), name).not.toMatch(/[@＠](?:here|channel|everyone)\b/i);
}

// --- hostile input ----------------------------------------------------------------------------

const PARTS = [
  '<!channel>', '<!here>', '<@U123>', '<#C999>', '<!subteam^S1>', '<http://x|y>', '<https://evil.example|click>',
  '`', '```', '*', '_', '~', '&', '<', '>', '&amp;', '&lt;', '|', '@here', '@channel', '＠everyone',
  '𝒳', '🏳️‍🌈', '👩🏽‍💻', 'e\u0301', 'a\u0308\u0323', 'שלום', 'مرحبا', '\u202E', '\u2066', '\u0000', '\uD800', '\n', '\t', ' ',
];
const hostile = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.constantFrom(...PARTS), { maxLength: 30 }).map((p) => p.join('')),
    fc.string({ unit: 'binary', maxLength: Math.min(maxLength, 200) }),
    fc.tuple(fc.constantFrom(...PARTS), fc.integer({ min: 1, max: maxLength })).map(([p, n]) => p.repeat(Math.ceil(n / p.length)).slice(0, n)),
  );
const longUrl = fc.oneof(
  fc.constant(undefined),
  fc.webUrl(),
  fc.tuple(fc.constantFrom('https://a.example.com/', 'http://prometheus:9090/graph?q=', 'javascript:alert(1)//', 'https://u:p@evil.example/'), fc.integer({ min: 0, max: 3_200 })).map(([base, n]) => base + 'a&b|'.repeat(n / 4)),
);
const labels = fc.dictionary(fc.oneof(hostile(40), fc.constantFrom('instance', 'job', 'pod', 'team', 'alertname', 'service')), hostile(3_000), { maxKeys: 25 });

const alertArb = (i: number): fc.Arbitrary<AlertView> =>
  fc.record({
    labels,
    annotations: fc.record({ summary: hostile(3_000), description: hostile(6_000), runbook_url: longUrl.map((u) => u ?? '') }),
    status: fc.constantFrom('firing' as const, 'resolved' as const),
    generatorURL: longUrl,
  }).map(({ generatorURL, ...a }) => ({ fingerprint: `fp-${i}`, startsAt: new Date(NOW.getTime() - 600_000), ...a, ...(generatorURL ? { generatorURL } : {}) }));

const viewArb: fc.Arbitrary<IncidentView> = fc
  .record({
    title: hostile(400),
    service: fc.option(hostile(400), { nil: undefined }),
    severity: fc.oneof(fc.constantFrom('critical', 'warning'), hostile(100)),
    commonLabels: labels,
    commonAnnotations: fc.record({ summary: hostile(3_000), description: hostile(6_000), runbook_url: longUrl.map((u) => u ?? '') }),
    alertCount: fc.integer({ min: 1, max: 60 }),
    links: fc.record({ alertmanager: longUrl, runbook: longUrl, generator: longUrl }),
    status: fc.constantFrom('firing' as const, 'resolved' as const),
    acknowledgedBy: fc.option(fc.oneof(fc.constant('U0ONCALL'), hostile(40)), { nil: undefined }),
    silence: fc.option(fc.record({ id: hostile(80), createdBy: hostile(40) }), { nil: undefined }),
    truncatedAlerts: fc.nat(10_000),
  })
  .chain((v) => fc.tuple(fc.constant(v), fc.tuple(...Array.from({ length: v.alertCount }, (_, i) => alertArb(i)))))
  .map(([v, alerts]) => {
    const firing = alerts.filter((a) => a.status === 'firing').length;
    return {
      id: '6f1c2d3e-4a5b-4c6d-8e7f-901234567890',
      number: 42,
      status: v.status,
      severity: v.severity,
      title: v.title,
      ...(v.service !== undefined ? { service: v.service } : {}),
      receiver: 'switchboard',
      groupKey: '{}:{}',
      groupLabels: { alertname: v.title },
      commonLabels: v.commonLabels,
      commonAnnotations: v.commonAnnotations,
      alerts,
      counts: { firing, resolved: alerts.length - firing },
      truncatedAlerts: v.truncatedAlerts,
      startedAt: new Date(NOW.getTime() - 600_000),
      ...(v.status === 'resolved' ? { resolvedAt: NOW } : {}),
      ...(v.acknowledgedBy ? { acknowledged: { userId: v.acknowledgedBy, at: NOW } } : {}),
      ...(v.silence ? { silence: { id: v.silence.id, endsAt: NOW, createdBy: v.silence.createdBy } } : {}),
      escalation: { level: 2, levels: 4, nextAt: new Date(NOW.getTime() + 60_000) },
      links: Object.fromEntries(Object.entries(v.links).filter(([, u]) => u !== undefined)),
      buttons: [{ actionId: 'service.health', label: v.title, input: { service: 'api-gateway' }, confirm: { title: v.title, text: v.title } }],
    } as IncidentView;
  });

const worldArb: fc.Arbitrary<World> = fc.record({ view: viewArb, now: fc.constant(NOW), typed: hostile(5_000) });

// --- the tests --------------------------------------------------------------------------------

describe('the renderer lists', () => {
  it('name every exported render* function in src', () => {
    const exported = sourceFiles(SRC).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/export (?:async )?(?:function|const) (render[A-Z]\w*)/g)].map((m) => m[1]!));
    expect(Object.keys(RENDERERS).sort()).toEqual([...new Set(exported)].sort());
  });

  it('name every incident action', () => {
    expect(Object.keys(INCIDENT_REPLIES).sort()).toEqual(incidentActionIds().sort());
  });
});

describe('every renderer and reply with random hostile incidents', () => {
  it('stays within Slack limits and lets nothing ping, link or inject markup', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (w) => {
        for (const [name, render] of Object.entries(RENDERERS)) for (const message of render(w)) expectSafe(name, message);
        for (const [name, reply] of Object.entries(INCIDENT_REPLIES)) for (const message of await reply(w)) expectSafe(name, message);
        for (const message of TYPED_ERRORS(w.typed)) expectSafe('typed error', { text: message });
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 40), seed: Number(process.env.FC_SEED ?? 20_250_304) },
    );
  }, 120_000);
});

describe('one hostile incident through every renderer and reply', () => {
  const MARKUP = '<!channel> <!here> <@U123> <#C999> <!subteam^S1> <https://evil.example|click> `x` ``` *b* _i_ ~s~ &amp; & < > @here @everyone ＠channel';
  const spread = (prefix: string) => `${prefix} ${MARKUP}`;
  const alert = (i: number, status: 'firing' | 'resolved'): AlertView => ({
    fingerprint: `fp-${i}`,
    status,
    labels: { alertname: spread('Down'), service: spread('svc'), instance: spread(`gw-${i}`), [spread('key')]: spread('value') },
    annotations: { summary: spread('summary'), description: spread('description'), runbook_url: 'https://evil.example|click>' },
    startsAt: NOW,
    generatorURL: `https://prometheus.example.com/graph?q=${'x'.repeat(2_900)}`,
  });
  const view: IncidentView = {
    id: '6f1c2d3e-4a5b-4c6d-8e7f-901234567890',
    number: 42,
    status: 'firing',
    severity: spread('critical'),
    title: spread('ServiceDown'),
    service: spread('api'),
    receiver: 'switchboard',
    groupKey: '{}:{}',
    groupLabels: { alertname: spread('ServiceDown') },
    commonLabels: { team: spread('team'), [spread('k')]: spread('v') },
    commonAnnotations: { summary: spread('summary'), description: spread('description'), runbook_url: `https://runbooks.example.com/${'y'.repeat(2_900)}` },
    alerts: [alert(1, 'firing'), alert(2, 'resolved')],
    counts: { firing: 1, resolved: 1 },
    truncatedAlerts: 0,
    startedAt: NOW,
    acknowledged: { userId: spread('U0'), at: NOW },
    silence: { id: spread('silence'), endsAt: NOW, createdBy: spread('who') },
    links: { alertmanager: `https://alertmanager.example.com/${'z'.repeat(2_900)}` },
    buttons: [{ actionId: 'service.health', label: spread('label'), input: { service: 'api-gateway' } }],
  };
  const world: World = { view, now: NOW, typed: spread('typed') };

  it.each(Object.keys(RENDERERS))('%s escapes every label and annotation and stays within limits', (name) => {
    const messages = RENDERERS[name]!(world);
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expectSafe(name, message);
  });

  it.each(Object.keys(INCIDENT_REPLIES))('the %s reply escapes the labels it shows', async (id) => {
    const replies = await INCIDENT_REPLIES[id]!(world);
    for (const reply of replies) expectSafe(id, reply);
  });

  it('escapes what a person typed in error replies', () => {
    for (const message of TYPED_ERRORS(world.typed)) {
      expectSafe('typed error', { text: message });
      // The typed backticks cannot end the code span the error puts them in.
      expect(message).not.toContain('`x`');
    }
  });
});
