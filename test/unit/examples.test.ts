import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { IncidentView } from '../../src/alerts/incident-view.js';
import { matchRoute } from '../../src/alerts/match-route.js';
import { runbookButtons } from '../../src/alerts/project-incident.js';
import { allActions } from '../../src/commands/actions/index.js';
import { createRegistry } from '../../src/commands/registry.js';
import type { Catalog, ServiceConfig } from '../../src/config/catalog-schema.js';
import { loadCatalog, parseCatalog } from '../../src/config/load-catalog.js';
import { requires } from '../helpers/requires.js';

const run = promisify(execFile);
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const CATALOG_FILE = join(EXAMPLES, 'switchboard.yml');
const RULES_DIR = join(EXAMPLES, 'rules');

const SERVICES = ['company-extraction', 'brownie-metadata', 'selextract', 'dried-fruits', 'api-gateway'];

/** promtool as the run's global setup found it; the tests that run it declare `requires('promtool')`. */
const promtool = 'promtool';

let catalog: Catalog;
let ruleFiles: string[];

beforeAll(async () => {
  // An empty environment: every ${VAR:-default} must fall back to its default.
  catalog = await loadCatalog(CATALOG_FILE, {});
  ruleFiles = (await readdir(RULES_DIR)).filter((f) => f.endsWith('.yml')).sort().map((f) => join(RULES_DIR, f));
});

const service = (id: string) => {
  const found = catalog.services[id];
  if (!found) throw new Error(`examples/switchboard.yml has no service ${id}`);
  return found;
};

describe('examples/switchboard.yml', () => {
  it('describes the five seed systems with their health checks', () => {
    expect(Object.keys(catalog.services).sort()).toEqual([...SERVICES].sort());
    const checks = Object.fromEntries(SERVICES.map((id) => [id, service(id).health.map((c) => `${c.name}:${c.kind}`)]));
    expect(checks).toEqual({
      'company-extraction': ['api:http', 'detailed:http', 'redis:redis'],
      'brownie-metadata': ['api:http', 'detailed:http', 'database:postgres'],
      selextract: ['api:http', 'worker:http', 'database:postgres', 'redis:redis'],
      'dried-fruits': ['api:http', 'database:http', 'redis:http'],
      'api-gateway': ['gateway:http', 'upstream:http', 'redis:redis'],
    });
    const urls = Object.fromEntries(
      service('api-gateway').health.flatMap((c) => ('url' in c ? [[c.name, c.url]] : [])),
    );
    expect(urls).toEqual({
      gateway: 'http://127.0.0.1:5000/health',
      upstream: 'http://127.0.0.1:5001/health',
      redis: 'redis://127.0.0.1:6379/2',
    });
  });

  it('gives every service a restart method, supervisor by default', () => {
    for (const id of SERVICES) {
      const restart = service(id).restart;
      expect(restart, id).toBeDefined();
      expect(restart!.kind, id).toBe('supervisor');
      if (restart!.kind === 'supervisor') {
        expect(restart!.url, id).toBe('http://127.0.0.1:9001/RPC2');
        expect(restart!.programs.length, id).toBeGreaterThan(0);
      }
    }
    const programs = (id: string) => {
      const restart = service(id).restart!;
      return restart.kind === 'supervisor' ? restart.programs : [];
    };
    expect(programs('api-gateway')).toEqual(['gateway-upstream', 'gateway-proxy']);
    expect(programs('selextract')).toEqual(['selextract-api', 'selextract-worker']);
  });

  it('resets the gateway circuit breaker by deleting api-gateway:circuit-breaker, then probing /proxy/ok', () => {
    expect(service('api-gateway').circuitBreakers).toEqual([
      {
        name: 'upstream',
        redis: 'redis://127.0.0.1:6379/2',
        key: 'api-gateway:circuit-breaker',
        type: 'hash',
        reset: 'delete',
        probe: { url: 'http://127.0.0.1:5000/proxy/ok', expectStatus: 200, timeout: 5_000 },
      },
    ]);
    for (const id of SERVICES.filter((s) => s !== 'api-gateway')) expect(service(id).circuitBreakers, id).toBeUndefined();
  });

  it('backs each system up the way its runbook does', () => {
    const backups = Object.fromEntries(
      SERVICES.map((id) => [
        id,
        (service(id).backups ?? []).map((b) => {
          const when = b.schedule ? { schedule: b.schedule, timezone: b.timezone } : {};
          if (b.kind === 'postgres') return { name: b.name, kind: b.kind, folder: b.folder, retention: b.retention, ...when };
          if (b.kind === 'command') return { name: b.name, kind: b.kind, argv: b.argv, cwd: b.cwd, ...when };
          return { name: b.name, kind: b.kind, ...when };
        }),
      ]),
    );
    const daily = { schedule: '0 2 * * *', timezone: 'UTC' };
    expect(backups).toEqual({
      'company-extraction': [{ name: 'redis', kind: 'redis' }],
      'brownie-metadata': [
        { name: 'database', kind: 'postgres', folder: `${process.cwd()}/.data/backups/brownie-metadata`, retention: { days: 30 } },
      ],
      selextract: [{ name: 'database', kind: 'postgres', folder: `${process.cwd()}/.data/backups/selextract`, retention: { days: 7 }, ...daily }],
      'dried-fruits': [
        { name: 'database', kind: 'postgres', folder: `${process.cwd()}/.data/backups/dried-fruits`, retention: { days: 30 }, ...daily },
        { name: 'script', kind: 'command', argv: ['./scripts/backup.sh', '--skip-logs'], cwd: '/opt/dried-fruits' },
      ],
      'api-gateway': [{ name: 'redis', kind: 'redis', ...daily }],
    });
  });

  it('has diagnostics targets for PostgreSQL and Redis where the systems have them', () => {
    const postgres = Object.fromEntries(SERVICES.flatMap((id) => (service(id).postgres ? [[id, service(id).postgres!.longQueryThreshold]] : [])));
    expect(postgres).toEqual({ 'brownie-metadata': 600_000, selextract: 600_000, 'dried-fruits': 600_000 });
    expect(SERVICES.filter((id) => service(id).redis)).toEqual(SERVICES);
    expect(service('api-gateway').redis).toMatchObject({ warnPercent: 70, critPercent: 80 });
  });

  it('points every address at 127.0.0.1 unless the environment says otherwise', () => {
    const urls: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string' && /^[a-z]+:\/\//.test(value)) urls.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(catalog.services);
    expect(urls.length).toBeGreaterThan(20);
    for (const url of urls) expect(new URL(url).hostname, url).toBe('127.0.0.1');
  });

  it('takes every address from a variable', async () => {
    const text = await readFile(CATALOG_FILE, 'utf8');
    const overridden = parseCatalog(text, CATALOG_FILE, {
      SUPERVISOR_URL: 'unix:///run/supervisor.sock',
      GATEWAY_REDIS_URL: 'redis://redis.internal:6379/0',
      SWITCHBOARD_BACKUP_DIR: '/srv/backups',
    });
    const gateway = overridden.services['api-gateway']!;
    expect(gateway.restart).toMatchObject({ kind: 'supervisor', url: 'unix:///run/supervisor.sock' });
    expect(gateway.circuitBreakers?.[0]?.redis).toBe('redis://redis.internal:6379/0');
    expect(overridden.services.selextract!.backups?.[0]).toMatchObject({ folder: '/srv/backups/selextract' });
    // No literal address outside a ${VAR:-default}: every line holding "://" is a default.
    const literal = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#') && line.includes('://'))
      .filter((line) => !/\$\{[A-Z_]+:-[a-z]+:\/\//.test(line));
    expect(literal).toEqual([]);
  });
});

describe('examples/switchboard.yml routes', () => {
  const registry = createRegistry(allActions);
  /** Alert names per service, from examples/rules/<service>.yml. */
  const alertNames = async (id: string): Promise<string[]> => {
    const doc = parse(await readFile(join(RULES_DIR, `${id}.yml`), 'utf8')) as { groups: { rules: Rule[] }[] };
    return doc.groups.flatMap((g) => g.rules.map((r) => String(r.alert)));
  };
  /**
   * What an action needs from the service for a button to run with the service alone: a button
   * cannot name a backup or breaker, so there must be exactly one.
   */
  const runnable: Record<string, (s: ServiceConfig) => boolean> = {
    'service.health': (s) => s.health.length > 0,
    'service.restart': (s) => s.restart !== undefined,
    // A service with several breakers or backups gets a button per breaker or backup.
    'circuit.status': (s) => (s.circuitBreakers?.length ?? 0) > 0,
    'circuit.reset': (s) => (s.circuitBreakers?.length ?? 0) > 0,
    'backup.start': (s) => (s.backups?.length ?? 0) > 0,
    'db.connections': (s) => s.postgres !== undefined,
    'db.long-queries': (s) => s.postgres !== undefined,
    'db.kill-long-queries': (s) => s.postgres !== undefined,
    'redis.memory': (s) => s.redis !== undefined,
  };

  it('sends each seed system to its own route, and the rest to defaultRoute', () => {
    // Selextract's critical alerts come first: runbook 002 escalates them sooner.
    expect(catalog.routes.map((r) => r.name)).toEqual(SERVICES.flatMap((s) => (s === 'selextract' ? ['selextract-critical', s] : [s])));
    expect(catalog.routes.find((r) => r.name === 'selextract-critical')!.match).toEqual({ service: 'selextract', severity: 'critical' });
    for (const route of catalog.routes.filter((r) => r.name !== 'selextract-critical')) {
      expect(route.match, route.name).toEqual({ service: route.name });
      expect(Object.keys(catalog.services), route.name).toContain(route.match.service);
      expect(route.service, route.name).toBeUndefined();
    }
    expect(catalog.defaultRoute).toEqual({ channel: '#ops-alerts', buttons: { '*': ['service.health'] } });
    expect(catalog.routes.find((r) => r.name === 'api-gateway')!.channel).toBe('#devops-oncall');
    expect(catalog.alertmanager).toMatchObject({ url: 'http://127.0.0.1:9093' });
  });

  it('offers only registered actions that can run on the route service alone', () => {
    const buttons = [...catalog.routes.map((r) => ({ where: r.name, service: r.match.service!, buttons: r.buttons })), { where: 'defaultRoute', service: undefined, buttons: catalog.defaultRoute!.buttons }];
    for (const { where, service, buttons: perAlert } of buttons) {
      for (const [alertname, ids] of Object.entries(perAlert)) {
        for (const id of ids) {
          const at = `${where} ${alertname} ${id}`;
          const action = registry.get(id);
          expect(action, `${at}: not in the action registry`).toBeDefined();
          // runbookButtons drops an action whose input needs more than the service, silently.
          expect(action!.input.safeParse({ service: 'api-gateway' }).success, at).toBe(true);
          expect(runnable[id], `${at}: add it to \`runnable\``).toBeDefined();
          if (service) expect(runnable[id]!(catalog.services[service]!), `${at}: the service lacks what it needs`).toBe(true);
        }
      }
    }
  });

  it('keys buttons by alert names its rules file has', async () => {
    for (const route of catalog.routes) {
      const names = await alertNames(route.match.service!);
      for (const alertname of Object.keys(route.buttons).filter((a) => a !== '*')) expect(names, `${route.name}: ${alertname}`).toContain(alertname);
      expect(route.buttons['*'], route.name).toEqual(['service.health']);
    }
    const gateway = catalog.routes.find((r) => r.name === 'api-gateway')!.buttons;
    expect(gateway).toMatchObject({
      ServiceDown: ['service.restart'],
      CircuitBreakerOpen: ['circuit.status', 'circuit.reset'],
      RedisHighMemoryUsage: ['redis.memory'],
      BackupFailed: ['backup.start'],
    });
    expect(catalog.routes.find((r) => r.name === 'selextract')!.buttons.DatabaseConnectionsHigh).toEqual(['db.connections', 'db.long-queries', 'db.kill-long-queries']);
  });

  it('puts health and a confirmed restart on a ServiceDown incident of the gateway', () => {
    const labels = { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical' };
    const route = matchRoute(catalog.routes, catalog.defaultRoute!, labels, new Set(Object.keys(catalog.services)));
    expect(route).toMatchObject({ name: 'api-gateway', channel: '#devops-oncall', service: 'api-gateway' });
    const view = { number: 7, service: 'api-gateway', commonLabels: labels } as unknown as IncidentView;
    const buttons = runbookButtons(route, view, registry, catalog.services);
    expect(buttons.map((b) => [b.actionId, b.input, b.confirm !== undefined])).toEqual([
      ['service.health', { service: 'api-gateway' }, false],
      ['service.restart', { service: 'api-gateway' }, true],
    ]);
    const other = matchRoute(catalog.routes, catalog.defaultRoute!, { alertname: 'Watchdog' }, new Set(Object.keys(catalog.services)));
    expect(other).toMatchObject({ name: 'defaultRoute', channel: '#ops-alerts' });
  });

  it('offers one Start backup button per backup of dried-fruits, or only the one its alert names', () => {
    const services = new Set(Object.keys(catalog.services));
    const buttonsFor = (labels: Record<string, string>) => {
      const route = matchRoute(catalog.routes, catalog.defaultRoute!, labels, services);
      const view = { number: 9, service: 'dried-fruits', commonLabels: labels } as unknown as IncidentView;
      return runbookButtons(route, view, registry, catalog.services).filter((b) => b.actionId === 'backup.start').map((b) => [b.label, b.input]);
    };
    expect(buttonsFor({ alertname: 'BackupFailed', service: 'dried-fruits', target: 'script' })).toEqual([['Start backup: script', { service: 'dried-fruits', target: 'script' }]]);
    expect(buttonsFor({ alertname: 'BackupTooOld', service: 'dried-fruits' })).toEqual([
      ['Start backup: database', { service: 'dried-fruits', target: 'database' }],
      ['Start backup: script', { service: 'dried-fruits', target: 'script' }],
    ]);
    // A service with one backup keeps one plain button, as before.
    const brownie = matchRoute(catalog.routes, catalog.defaultRoute!, { alertname: 'BackupFailed', service: 'brownie-metadata' }, services);
    const view = { number: 3, service: 'brownie-metadata', commonLabels: { alertname: 'BackupFailed' } } as unknown as IncidentView;
    expect(runbookButtons(brownie, view, registry, catalog.services).filter((b) => b.actionId === 'backup.start').map((b) => [b.label, b.input])).toEqual([
      ['Start backup', { service: 'brownie-metadata' }],
    ]);
  });

  it('takes the channels and the Alertmanager URL from variables', async () => {
    const text = await readFile(CATALOG_FILE, 'utf8');
    const overridden = parseCatalog(text, CATALOG_FILE, {
      ALERTMANAGER_URL: 'http://alertmanager.monitoring:9093',
      SWITCHBOARD_DEFAULT_CHANNEL: 'C0DEFAULT1',
      GATEWAY_CHANNEL: 'C0GATEWAY1',
      DRIED_FRUITS_CHANNEL: '#inventory',
    });
    expect(overridden.alertmanager?.url).toBe('http://alertmanager.monitoring:9093');
    expect(overridden.defaultRoute?.channel).toBe('C0DEFAULT1');
    expect(Object.fromEntries(overridden.routes.map((r) => [r.name, r.channel]))).toEqual({
      'company-extraction': '#ops-alerts',
      'brownie-metadata': '#ops-alerts',
      'selextract-critical': '#ops-alerts',
      selextract: '#ops-alerts',
      'dried-fruits': '#inventory',
      'api-gateway': 'C0GATEWAY1',
    });
  });
});

interface Rule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

describe('examples/rules', () => {
  it('has one rules file per catalog service', () => {
    expect(ruleFiles.map((f) => f.slice(RULES_DIR.length + 1))).toEqual(SERVICES.map((id) => `${id}.yml`).sort());
  });

  it('gives every alert an expression, a severity and the catalog id of its service', async () => {
    for (const file of ruleFiles) {
      const doc = parse(await readFile(file, 'utf8')) as { groups?: { name?: unknown; rules?: Rule[] }[] };
      expect(Array.isArray(doc.groups), file).toBe(true);
      const expected = file.slice(RULES_DIR.length + 1).replace(/\.yml$/, '');
      for (const group of doc.groups!) {
        expect(typeof group.name, file).toBe('string');
        expect(group.rules?.length, `${file} ${String(group.name)}`).toBeGreaterThan(0);
        for (const rule of group.rules!) {
          const where = `${file}: ${String(rule.alert)}`;
          expect(typeof rule.alert, where).toBe('string');
          expect(typeof rule.expr, where).toBe('string');
          expect(['critical', 'warning'], where).toContain(rule.labels?.severity);
          expect(Object.keys(catalog.services), where).toContain(rule.labels?.service);
          expect(rule.labels?.service, where).toBe(expected);
          expect(typeof rule.annotations?.summary, where).toBe('string');
        }
      }
    }
  });

  it('keeps the alert names the runbooks use', async () => {
    const names = async (id: string) => {
      const doc = parse(await readFile(join(RULES_DIR, `${id}.yml`), 'utf8')) as { groups: { rules: Rule[] }[] };
      return doc.groups.flatMap((g) => g.rules.map((r) => r.alert));
    };
    expect(await names('company-extraction')).toEqual(
      expect.arrayContaining(['HighErrorRate', 'SlowResponseTime', 'RedisDown', 'HighMemoryUsage', 'ExternalAPIFailure']),
    );
    expect(await names('brownie-metadata')).toEqual(expect.arrayContaining(['APIDown', 'HighErrorRate']));
    expect(await names('selextract')).toEqual(
      expect.arrayContaining(['ServiceDown', 'HighErrorRate', 'DatabaseConnectionsHigh', 'DiskSpaceHigh', 'MemoryUsageHigh', 'SSLCertificateExpiring', 'HighResponseTime', 'WorkerQueueHigh', 'TaskFailureRateHigh', 'ResourceUsageHigh', 'BackupFailed']),
    );
    expect(await names('dried-fruits')).toEqual(expect.arrayContaining(['HighCPUUsage', 'HighMemoryUsage', 'DatabaseConnectionFailed', 'HighResponseTime']));
    expect(await names('api-gateway')).toEqual(
      expect.arrayContaining(['ServiceDown', 'UpstreamHighErrorRate', 'CircuitBreakerFrequentlyOpen', 'HighRateLimitRejections', 'RedisHighMemoryUsage', 'HighResponseLatency']),
    );
  });

  requires('promtool').it('passes promtool check rules', async () => {
    const { stdout } = await run(promtool, ['check', 'rules', ...ruleFiles]);
    expect(stdout).not.toMatch(/FAILED/);
    expect(stdout.match(/SUCCESS/g)?.length).toBe(ruleFiles.length);
  });

  requires('promtool')('gateway rules written from the runbook, under promtool test rules', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'switchboard-rules-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fires CircuitBreakerFrequentlyOpen for a flapping breaker and RedisHighMemoryUsage only with a maxmemory', async () => {
      // circuit_breaker_state: 1 closed, 2 open, 3 half-open. The breaker flaps open/half-open
      // for 20 minutes; the Redis with maxmemory 0 (unlimited) must not count as 100% full.
      const tests = {
        rule_files: [join(RULES_DIR, 'api-gateway.yml')],
        evaluation_interval: '30s',
        tests: [
          {
            interval: '30s',
            input_series: [
              { series: 'circuit_breaker_state{instance="gw"}', values: '2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2 3 2' },
              { series: 'redis_memory_used_bytes{instance="full"}', values: '90x40' },
              { series: 'redis_memory_max_bytes{instance="full"}', values: '100x40' },
              { series: 'redis_memory_used_bytes{instance="unlimited"}', values: '90x40' },
              { series: 'redis_memory_max_bytes{instance="unlimited"}', values: '0x40' },
            ],
            alert_rule_test: [
              {
                eval_time: '20m',
                alertname: 'CircuitBreakerFrequentlyOpen',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', service: 'api-gateway', instance: 'gw' },
                    exp_annotations: { summary: 'Circuit breaker stuck open', description: 'The breaker was not closed for 100% of the last 10 minutes' },
                  },
                ],
              },
              {
                eval_time: '20m',
                alertname: 'RedisHighMemoryUsage',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', service: 'api-gateway', instance: 'full' },
                    exp_annotations: { summary: 'Redis memory above 80% of maxmemory', description: 'Redis uses 90% of maxmemory' },
                  },
                ],
              },
            ],
          },
        ],
      };
      const file = join(dir, 'api-gateway.test.yml');
      // promtool reads YAML; JSON is YAML.
      await writeFile(file, JSON.stringify(tests));
      const result = await run(promtool, ['test', 'rules', file]).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
      expect(result.stdout).toMatch(/SUCCESS/);
    });

    it('formats a latency for people: "1m 57s", not "117s" or "2.5390625000000004s"', async () => {
      // p95 of 100 requests all between 60 s and 120 s: 60 + 0.95 × 60 = 117 s.
      const tests = {
        rule_files: [join(RULES_DIR, 'selextract.yml')],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: 'http_request_duration_seconds_bucket{le="60"}', values: '0x20' },
              { series: 'http_request_duration_seconds_bucket{le="120"}', values: '100x20' },
              { series: 'http_request_duration_seconds_bucket{le="+Inf"}', values: '100x20' },
            ],
            alert_rule_test: [
              {
                eval_time: '15m',
                alertname: 'HighResponseTime',
                exp_alerts: [{ exp_labels: { severity: 'warning', service: 'selextract' }, exp_annotations: { summary: 'High API response time', description: '95th percentile response time is 1m 57s' } }],
              },
            ],
          },
        ],
      };
      const file = join(dir, 'selextract.test.yml');
      await writeFile(file, JSON.stringify(tests));
      const result = await run(promtool, ['test', 'rules', file]).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
      expect(result.stdout).toMatch(/SUCCESS/);
    });
  });

  it('formats every $value in a message with humanize, humanizePercentage or humanizeDuration', async () => {
    const raw: string[] = [];
    for (const file of ruleFiles) {
      const rules = (parse(await readFile(file, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }> }).groups.flatMap((g) => g.rules);
      for (const rule of rules) {
        for (const [name, text] of Object.entries(rule.annotations ?? {})) {
          for (const use of text.match(/{{[^}]*\$value[^}]*}}/g) ?? []) {
            if (!/\|\s*humanize(Percentage|Duration)?\s*}}$/.test(use)) raw.push(`${file.split('/').pop()} ${rule.alert} ${name}: ${use}`);
          }
        }
      }
    }
    expect(raw).toEqual([]);
  });
});
