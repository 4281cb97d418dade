import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Catalog } from '../../src/config/catalog-schema.js';
import { loadCatalog, parseCatalog } from '../../src/config/load-catalog.js';

const run = promisify(execFile);
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const CATALOG_FILE = join(EXAMPLES, 'switchboard.yml');
const RULES_DIR = join(EXAMPLES, 'rules');

const SERVICES = ['company-extraction', 'brownie-metadata', 'selextract', 'dried-fruits', 'api-gateway'];

/** promtool from PATH (CI installs the Debian package prometheus), or undefined. */
function findPromtool(): string | undefined {
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, 'promtool');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
const promtool = findPromtool();
const NO_PROMTOOL = ' — SKIPPED: promtool is not installed (apt-get install prometheus)';

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

  it(`passes promtool check rules${promtool ? '' : NO_PROMTOOL}`, async (ctx) => {
    if (!promtool) return ctx.skip();
    const { stdout } = await run(promtool, ['check', 'rules', ...ruleFiles]);
    expect(stdout).not.toMatch(/FAILED/);
    expect(stdout.match(/SUCCESS/g)?.length).toBe(ruleFiles.length);
  });

  describe(`gateway rules written from the runbook, under promtool test rules${promtool ? '' : NO_PROMTOOL}`, () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'switchboard-rules-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fires CircuitBreakerFrequentlyOpen for a flapping breaker and RedisHighMemoryUsage only with a maxmemory', async (ctx) => {
      if (!promtool) return ctx.skip();
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
  });
});
