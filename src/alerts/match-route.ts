import type { Catalog } from '../config/catalog-schema.js';
import type { AutomationConfig, DefaultRouteConfig, RouteConfig } from './route-schema.js';
import { labelValue } from './webhook-schema.js';

/** The name a match on `defaultRoute` reports; route names are lowercase ids, so it cannot clash. */
export const DEFAULT_ROUTE_NAME = 'defaultRoute';

/** Where an alert group goes and what its incident message offers. */
export interface MatchedRoute {
  name: string;
  channel: string;
  escalation?: string;
  /** The catalog service the runbook buttons act on, when there is one. */
  service?: string;
  /** Action ids of the runbook buttons for an alertname: the `"*"` ones first, without repeats. */
  buttons(alertname: string): string[];
  automations: readonly AutomationConfig[];
}

type Labels = Readonly<Record<string, string>>;

/**
 * The route for an alert group's labels (usually its `commonLabels`): the first route whose
 * `match` and `matchRe` all hold, else `defaultRoute`. A label the alerts lack counts as the
 * empty string, as in Alertmanager. `knownServices` are the catalog's service ids: the alert's
 * `service` label is used only when it names one of them.
 */
export function matchRoute(
  routes: readonly RouteConfig[],
  defaultRoute: DefaultRouteConfig,
  labels: Labels,
  knownServices: ReadonlySet<string>,
): MatchedRoute {
  const service = labelValue(labels, 'service');
  const labelService = service !== undefined && knownServices.has(service) ? service : undefined;
  const route = routes.find((r) => matches(r, labels));
  if (!route) {
    return {
      name: DEFAULT_ROUTE_NAME,
      channel: defaultRoute.channel,
      ...(defaultRoute.escalation ? { escalation: defaultRoute.escalation } : {}),
      ...(labelService ? { service: labelService } : {}),
      buttons: buttonsOf(defaultRoute.buttons),
      automations: [],
    };
  }
  const routeService = route.service ?? labelService;
  return {
    name: route.name,
    channel: route.channel,
    ...(route.escalation ? { escalation: route.escalation } : {}),
    ...(routeService ? { service: routeService } : {}),
    buttons: buttonsOf(route.buttons),
    automations: route.automations,
  };
}

// Own entries only, on both sides: a label named `constructor` or `__proto__` is an ordinary
// label, and an absent one is "" rather than a member every object inherits.
function matches(route: RouteConfig, labels: Labels): boolean {
  for (const [name, value] of Object.entries(route.match)) if ((labelValue(labels, name) ?? '') !== value) return false;
  for (const [name, regex] of Object.entries(route.matchRe)) if (!regex.test(labelValue(labels, name) ?? '')) return false;
  return true;
}

function buttonsOf(config: Readonly<Record<string, readonly string[]>>): (alertname: string) => string[] {
  const of = (name: string) => (Object.hasOwn(config, name) ? config[name]! : []);
  return (alertname) => [...new Set([...of('*'), ...(alertname === '*' ? [] : of(alertname))])];
}

/**
 * The catalog's route for labels, or undefined when the catalog has neither routes nor a
 * `defaultRoute`. The catalog's services are the known ones.
 */
export function routeFor(catalog: Pick<Catalog, 'routes' | 'defaultRoute' | 'services'>, labels: Labels): MatchedRoute | undefined {
  if (!catalog.defaultRoute && catalog.routes.length === 0) return undefined;
  return matchRoute(catalog.routes, catalog.defaultRoute ?? { channel: '', buttons: {} }, labels, knownServices(catalog.services));
}

// The services of a catalog, computed once per catalog object.
const servicesOf = new WeakMap<object, ReadonlySet<string>>();
function knownServices(services: Catalog['services']): ReadonlySet<string> {
  let known = servicesOf.get(services);
  if (!known) servicesOf.set(services, (known = new Set(Object.keys(services))));
  return known;
}
