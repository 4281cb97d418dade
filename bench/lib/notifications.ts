/**
 * Alertmanager webhook bodies (payload version 4) for the benchmarks, made the way Alertmanager
 * makes them: every notification of a group carries the group's whole current alert list, so an
 * update is the previous list with one alert added or resolved, and a repeat is the same list again.
 */

export const RECEIVER = 'switchboard';
export const TEAMS = ['payments', 'platform', 'data', 'search'] as const;
export const SERVICES = ['api-gateway', 'company-extraction', 'brownie-metadata', 'dried-fruits'] as const;
const ALERTNAMES = ['HighErrorRate', 'HighLatency', 'RedisMemoryHigh', 'PostgresConnectionsHigh', 'CeleryQueueBacklog', 'HealthCheckFailing', 'DiskSpaceLow'] as const;
const SEVERITIES = ['critical', 'warning', 'warning', 'warning', 'info'] as const;
const ZERO_TIME = '0001-01-01T00:00:00Z';
const MAX_FIRING = 6;
const MAX_LISTED = 10;

export type NotificationKind = 'new' | 'update' | 'repeat';

interface WireAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** What the generator remembers of one alert: numbers only, its wire form is built per body. */
interface AlertState {
  n: number;
  startsAt: number;
  /** When it resolved (epoch ms); 0 while firing. */
  endsAt: number;
}

// A group keeps its few labels and numbers, not its alerts' wire form: the load generator holds
// thousands of idle groups, and whatever it keeps alive outlasts young-generation collections,
// whose copying then takes CPU from the server under test on the same machine.
interface Group {
  id: number;
  key: string;
  labels: { alertname: string; service: string; team: string; namespace: string; severity: string };
  alerts: AlertState[];
  nextAlert: number;
}

/** A small deterministic PRNG (mulberry32), so both targets get the same kind of traffic run after run. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function newAlert(group: Group, now: Date): AlertState {
  return { n: group.nextAlert++, startsAt: now.getTime(), endsAt: 0 };
}

function wireAlert(group: Group, alert: AlertState): WireAlert {
  const { labels } = group;
  const instance = `${labels.service}-${alert.n}.${labels.namespace}:9100`;
  return {
    status: alert.endsAt ? 'resolved' : 'firing',
    labels: { ...labels, instance, job: labels.service, pod: `${labels.service}-${alert.n}-7f9c8` },
    annotations: {
      summary: `${labels.alertname} on ${instance}`,
      description: `${labels.alertname} has been true for more than 5 minutes on ${instance} (${labels.team}).`,
      runbook_url: `https://runbooks.example.org/${labels.service}#${labels.alertname.toLowerCase()}`,
    },
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: alert.endsAt ? new Date(alert.endsAt).toISOString() : ZERO_TIME,
    generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent(`${labels.alertname}{service="${labels.service}"}`)}&g0.tab=1`,
    // 16 hex digits like Alertmanager's, unique per group and alert.
    fingerprint: (group.id * 65_536 + alert.n).toString(16).padStart(16, '0'),
  };
}

function body(group: Group): string {
  const alerts = group.alerts.map((a) => wireAlert(group, a));
  const common = (get: (a: WireAlert) => Record<string, string>) =>
    Object.fromEntries(Object.entries(get(alerts[0]!)).filter(([k, v]) => alerts.every((a) => get(a)[k] === v)));
  return JSON.stringify({
    receiver: RECEIVER,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: group.labels.alertname, service: group.labels.service, namespace: group.labels.namespace },
    commonLabels: common((a) => a.labels),
    commonAnnotations: common((a) => a.annotations),
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: group.key,
    truncatedAlerts: 0,
  });
}

export interface Outgoing {
  body: string;
  kind: NotificationKind;
  /** Call when the answer arrived: the group may be notified again (Alertmanager sends one group at a time). */
  release(): void;
}

export interface NotificationMix {
  next(): Outgoing;
  /** How many of each kind were handed out. */
  readonly counts: Record<NotificationKind, number>;
  /** Groups opened so far (new incidents). */
  readonly groups: number;
}

/**
 * Hands out new groups (`newShare`), updates of idle groups (`updateShare`: an alert joins, 70 %, or
 * one resolves; resolving the last one resolves the incident and retires the group) and repeats of
 * idle groups (the rest: Alertmanager's repeat_interval, or the second member of an HA pair).
 * A group is never sent twice at once; with no idle group, a new one is opened instead.
 */
export function createNotificationMix(options: { seed: number; runId: string; newShare: number; updateShare: number; initialAlerts?: readonly [number, number] }): NotificationMix {
  const random = createRandom(options.seed);
  const [minAlerts, maxAlerts] = options.initialAlerts ?? [1, 4];
  const idle: Group[] = [];
  const counts: Record<NotificationKind, number> = { new: 0, update: 0, repeat: 0 };
  let groups = 0;

  const hold = (group: Group, kind: NotificationKind, retire = false): Outgoing => {
    counts[kind] += 1;
    let released = false;
    return {
      body: body(group),
      kind,
      release() {
        if (released) return;
        released = true;
        if (!retire) idle.push(group);
      },
    };
  };

  const takeIdle = (): Group | undefined => {
    if (idle.length === 0) return undefined;
    const i = Math.floor(random() * idle.length);
    const group = idle[i]!;
    idle[i] = idle[idle.length - 1]!;
    idle.pop();
    return group;
  };

  function open(now: Date): Outgoing {
    const n = groups++;
    const labels = {
      alertname: pick(random, ALERTNAMES),
      service: pick(random, SERVICES),
      team: pick(random, TEAMS),
      namespace: `ns-${options.runId}-${n}`,
      severity: pick(random, SEVERITIES),
    };
    const group: Group = {
      id: n,
      key: `{}/{team="${labels.team}"}:{alertname="${labels.alertname}", namespace="${labels.namespace}", service="${labels.service}"}`,
      labels,
      alerts: [],
      nextAlert: 0,
    };
    const count = minAlerts + Math.floor(random() * (maxAlerts - minAlerts + 1));
    for (let i = 0; i < count; i++) group.alerts.push(newAlert(group, now));
    return hold(group, 'new');
  }

  function update(group: Group, now: Date): Outgoing {
    const firing = group.alerts.filter((a) => !a.endsAt);
    const join = firing.length < MAX_FIRING && (firing.length <= 1 ? random() < 0.85 : random() < 0.7);
    if (join) group.alerts.push(newAlert(group, now));
    else {
      const victim = pick(random, firing);
      victim.endsAt = now.getTime();
    }
    // Alertmanager stops listing resolved alerts after a while; keep the list short the same way.
    while (group.alerts.length > MAX_LISTED) {
      const i = group.alerts.findIndex((a) => a.endsAt);
      if (i < 0) break;
      group.alerts.splice(i, 1);
    }
    const resolvedAll = group.alerts.every((a) => a.endsAt);
    return hold(group, 'update', resolvedAll);
  }

  return {
    next() {
      const now = new Date();
      const r = random();
      if (r < options.newShare) return open(now);
      const group = takeIdle();
      if (!group) return open(now);
      return r < options.newShare + options.updateShare ? update(group, now) : hold(group, 'repeat');
    },
    counts,
    get groups() {
      return groups;
    },
  };
}

/** One new group's first notification, `alerts` firing alerts, for the storm; `team` picks its route. */
export function stormNotification(runId: string, index: number, alerts: number, now: Date, team = 'platform'): { body: string; groupKey: string } {
  const labels = {
    alertname: ALERTNAMES[index % ALERTNAMES.length]!,
    service: SERVICES[index % SERVICES.length]!,
    team,
    namespace: `storm-${runId}-${index}`,
    severity: SEVERITIES[index % SEVERITIES.length]!,
  };
  const group: Group = {
    id: index,
    key: `{}/{team="${team}"}:{alertname="${labels.alertname}", namespace="${labels.namespace}", service="${labels.service}"}`,
    labels,
    alerts: [],
    nextAlert: 0,
  };
  for (let i = 0; i < alerts; i++) group.alerts.push(newAlert(group, now));
  return { body: body(group), groupKey: group.key };
}
