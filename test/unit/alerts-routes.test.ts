import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_ROUTE_NAME, matchRoute } from '../../src/alerts/match-route.js';
import { DefaultRouteConfig, RoutesConfig } from '../../src/alerts/route-schema.js';
import { problemsFromZod } from '../../src/config/problems.js';

const catalogYaml = `
defaultRoute: { channel: C0ALERTS, escalation: default, buttons: { "*": [service.health] } }
routes:
  - name: gateway-critical
    match: { service: api-gateway, severity: critical }
    matchRe: { alertname: "Circuit.*|Service.*" }
    channel: C0GATEWAY
    escalation: critical-ladder
    service: api-gateway
    buttons:
      "*": [service.health]
      CircuitBreakerOpen: [circuit.status, circuit.reset]
      ServiceDown: [service.restart, service.health]
    automations:
      - { alertname: ServiceDown, action: service.restart, after: 2m, maxPerHour: 2 }
    continue: false
  - name: databases
    matchRe: { job: "postgres|redis" }
    channel: "#db-alerts"
    buttons: { DatabaseConnectionsHigh: [postgres.connections] }
  - name: warnings
    match: { severity: warning }
    channel: C0WARN
`;

const doc = parse(catalogYaml) as { routes: unknown; defaultRoute: unknown };
const routes = RoutesConfig.parse(doc.routes);
const defaultRoute = DefaultRouteConfig.parse(doc.defaultRoute);
const services = new Set(['api-gateway', 'brownie-metadata', 'postgres-main']);

describe('matchRoute', () => {
  it.each<[string, Record<string, string>, string, string]>([
    ['all matchers hold', { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical' }, 'gateway-critical', 'C0GATEWAY'],
    ['the regex is anchored', { alertname: 'XServiceDown', service: 'api-gateway', severity: 'critical' }, DEFAULT_ROUTE_NAME, 'C0ALERTS'],
    ['a regex on a missing label sees ""', { service: 'api-gateway', severity: 'critical' }, DEFAULT_ROUTE_NAME, 'C0ALERTS'],
    ['one equality fails', { alertname: 'ServiceDown', service: 'api-gateway', severity: 'warning' }, 'warnings', 'C0WARN'],
    ['the first match wins', { alertname: 'X', job: 'redis', severity: 'warning' }, 'databases', '#db-alerts'],
    ['nothing matches', { alertname: 'Watchdog' }, DEFAULT_ROUTE_NAME, 'C0ALERTS'],
  ])('%s', (_name, labels, name, channel) => {
    const route = matchRoute(routes, defaultRoute, labels, services);
    expect([route.name, route.channel]).toEqual([name, channel]);
  });

  it('gives the route its escalation, service, buttons per alertname and automations', () => {
    const route = matchRoute(routes, defaultRoute, { alertname: 'CircuitBreakerOpen', service: 'api-gateway', severity: 'critical' }, services);
    expect(route.escalation).toBe('critical-ladder');
    expect(route.service).toBe('api-gateway');
    expect(route.buttons('CircuitBreakerOpen')).toEqual(['service.health', 'circuit.status', 'circuit.reset']);
    expect(route.buttons('ServiceDown')).toEqual(['service.health', 'service.restart']);
    expect(route.buttons('Unlisted')).toEqual(['service.health']);
    // Alert text is not the catalog's: an inherited name is no key of it.
    expect(route.buttons('constructor')).toEqual(['service.health']);
    expect(route.buttons('toString')).toEqual(['service.health']);
    expect(route.automations).toEqual([{ alertname: 'ServiceDown', action: 'service.restart', after: 120_000, maxPerHour: 2 }]);
  });

  it.each<[string, Record<string, string>, string | undefined]>([
    ['a route without service takes a known service label', { job: 'postgres', service: 'postgres-main' }, 'postgres-main'],
    ['but not an unknown one', { job: 'postgres', service: 'unknown-db' }, undefined],
    ['the default route takes a known service label', { alertname: 'X', service: 'brownie-metadata' }, 'brownie-metadata'],
    ['and nothing otherwise', { alertname: 'X' }, undefined],
  ])('%s', (_name, labels, service) => {
    expect(matchRoute(routes, defaultRoute, labels, services).service).toBe(service);
  });

  it('gives the default route its channel, escalation and buttons, and no automations', () => {
    const route = matchRoute(routes, defaultRoute, { alertname: 'Watchdog' }, services);
    expect(route).toMatchObject({ name: DEFAULT_ROUTE_NAME, channel: 'C0ALERTS', escalation: 'default', automations: [] });
    expect(route.buttons('Watchdog')).toEqual(['service.health']);
  });

  it('works with no routes at all', () => {
    expect(matchRoute([], DefaultRouteConfig.parse({ channel: 'C0ALERTS' }), {}, services)).toMatchObject({ name: DEFAULT_ROUTE_NAME, channel: 'C0ALERTS' });
  });
});

function problems(schema: typeof RoutesConfig | typeof DefaultRouteConfig, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  return problemsFromZod(parsed.error, 'catalog').map((p) => `${p.path}: ${p.message}`);
}

describe('RoutesConfig', () => {
  const ok = { name: 'r', channel: 'C0123ABCD' };
  it.each<[string, unknown, string[]]>([
    ['a valid minimal route', [ok], []],
    ['a #channel name', [{ ...ok, channel: '#ops-alerts' }], []],
    ['a bad channel', [{ ...ok, channel: 'ops alerts' }], ['[0].channel: must be a channel id such as C0123ABCD (channel details → About) or a #channel-name in lowercase']],
    ['an invalid regex', [{ ...ok, matchRe: { alertname: 'Circuit(' } }], ['[0].matchRe.alertname: "Circuit(" is not a valid regular expression: Unterminated group']],
    ['a bad action id', [{ ...ok, buttons: { '*': ['restart'] } }], ['[0].buttons.*[0]: must be an action id such as service.restart']],
    ['a bad duration', [{ ...ok, automations: [{ alertname: 'A', action: 'service.restart', after: 'soon' }] }], ['[0].automations[0].after: "soon" is not a duration; write it like "500ms", "5s", "15m", "4h" or "1d"']],
    ['too many runs per hour', [{ ...ok, automations: [{ alertname: 'A', action: 'service.restart', after: '1m', maxPerHour: 100 }] }], ['[0].automations[0].maxPerHour: must be at most 12 (one run every 5 minutes)']],
    ['continue: true', [{ ...ok, continue: true }], ['[0].continue: continue: true is not supported; the first matching route wins']],
    ['duplicate names', [ok, { ...ok }], ['[1].name: "r" is already the name of routes[0]; route names must be unique']],
    ['a bad label name', [{ ...ok, match: { 'bad-label': 'x' } }], ['[0].match.bad-label: "bad-label" is not a valid id: must be a label name such as severity or service']],
  ])('%s', (_name, value, expected) => {
    const found = problems(RoutesConfig, value);
    if (expected.length === 0) expect(found).toEqual([]);
    else expect(found).toEqual(expect.arrayContaining(expected));
  });

  it('refuses unknown keys (a typo such as "matches")', () => {
    const parsed = RoutesConfig.safeParse([{ ...ok, matches: { a: 'b' } }]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['matches'], path: [0] });
  });

  it('defaults what a route may leave out', () => {
    expect(RoutesConfig.parse([ok])).toEqual([{ name: 'r', channel: 'C0123ABCD', match: {}, matchRe: {}, buttons: {}, automations: [] }]);
  });

  it('compiles matchRe anchored', () => {
    const [route] = RoutesConfig.parse([{ ...ok, matchRe: { alertname: 'A|B' } }]);
    expect(route!.matchRe.alertname!.test('A')).toBe(true);
    expect(route!.matchRe.alertname!.test('AB')).toBe(false);
  });
});

describe('DefaultRouteConfig', () => {
  it.each<[unknown, string[]]>([
    [{ channel: 'C0ALERTS', escalation: 'default' }, []],
    [{}, ['channel: Invalid input: expected string, received undefined']],
    [{ channel: 'C0ALERTS', escalation: 'Default Ladder' }, ['escalation: use lowercase letters, digits, "-" and "_" (at most 63, not starting with "-")']],
  ])('%j', (value, expected) => {
    expect(problems(DefaultRouteConfig, value)).toEqual(expected);
  });
});

describe('route ids', () => {
  it('follow the catalog id rule', async () => {
    const { CatalogId } = await import('../../src/config/catalog-schema.js');
    for (const id of ['critical-ladder', 'a', 'db_main', 'Default', '-x', 'x'.repeat(64), 'with space']) {
      expect(DefaultRouteConfig.safeParse({ channel: 'C0ALERTS', escalation: id }).success).toBe(CatalogId.safeParse(id).success);
    }
  });
});
