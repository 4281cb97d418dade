import type { Catalog, ServiceConfig } from '../config/catalog-schema.js';
import { SEED_SYSTEMS, type StandInRole } from './seed-systems.js';

/** What one stand-in process needs; passed to it on its command line. */
export interface StandInConfig {
  role: StandInRole;
  service: string;
  /** Absent for a worker without HTTP. */
  port?: number;
  redisUrl?: string;
  databaseUrl?: string;
  /** The gateway proxy's circuit breaker, a hash in Redis. */
  breaker?: { redisUrl: string; key: string };
  /** Where the gateway proxy forwards `/proxy/*`. */
  upstreamUrl?: string;
  /** The system's simulated conditions (src/simulator/conditions.ts), written by the simulator. */
  conditionsFile?: string;
}

export interface SystemPlan {
  service: string;
  programs: Array<StandInConfig & { program: string; job?: string }>;
  /** PostgreSQL databases the catalog backs up or diagnoses. */
  databases: string[];
  postgresJob: boolean;
}

export interface SimulatorPlan {
  systems: SystemPlan[];
  /** The supervisord XML-RPC port the catalog's restarts use. */
  supervisorPort: number;
  /** The loopback port of the catalog's `alertmanager.url` (silences), if it names one. */
  alertmanagerPort?: number;
  /** Things of the catalog the simulator cannot stand in, said once at start. */
  warnings: string[];
}

const portOf = (url: string): number => {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
};

/** Reads from the catalog where each seed system's stand-ins must listen, so they answer exactly what the bot checks. */
export function planSimulator(catalog: Catalog): SimulatorPlan {
  const warnings: string[] = [];
  const supervisorUrls = new Set<string>();
  const systems: SystemPlan[] = [];
  for (const [service, seed] of Object.entries(SEED_SYSTEMS)) {
    const config = catalog.services[service];
    if (!config) {
      warnings.push(`the catalog has no service ${service}: its stand-ins are not started`);
      continue;
    }
    if (config.restart?.kind === 'supervisor') supervisorUrls.add(config.restart.url);
    else warnings.push(`${service} does not restart through supervisord, so its Restart button will not reach the simulator`);
    const base = { service, ...redisOf(config), ...databaseOf(config) };
    const breaker = config.circuitBreakers?.[0];
    const programs = seed.programs.map((p): SystemPlan['programs'][number] => {
      const check = config.health.find((h) => h.name === p.healthCheck && h.kind === 'http');
      const url = check?.kind === 'http' ? check.url : undefined;
      if (p.healthCheck && !url) warnings.push(`${service} has no http health check named ${p.healthCheck}: ${p.role} gets no port`);
      return { ...base, program: p.role, role: p.role, ...(p.job ? { job: p.job } : {}), ...(url ? { port: portOf(url) } : {}) };
    });
    const upstream = programs.find((p) => p.role === 'gateway-upstream');
    for (const p of programs) {
      if (p.role !== 'gateway-proxy') continue;
      if (breaker) p.breaker = { redisUrl: breaker.redis, key: breaker.key };
      if (upstream?.port) p.upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    }
    systems.push({ service, programs, databases: databasesOf(config), postgresJob: seed.postgresJob ?? false });
  }
  const [first] = supervisorUrls;
  if (supervisorUrls.size > 1) warnings.push(`the catalog names several supervisord URLs; the simulator serves ${first}`);
  const url = new URL(first ?? 'http://127.0.0.1:9001/RPC2');
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(url.hostname)) throw new Error(`the simulator runs supervisord on 127.0.0.1 only, but the catalog restarts through ${url.origin}`);
  const am = catalog.alertmanager ? new URL(catalog.alertmanager.url) : undefined;
  const alertmanagerPort = am && ['127.0.0.1', 'localhost'].includes(am.hostname) ? portOf(am.href) : undefined;
  if (am && alertmanagerPort === undefined) warnings.push(`the catalog's Alertmanager is ${am.origin}, not on this machine: silences from the sandbox go there`);
  return { systems, supervisorPort: portOf(url.href), ...(alertmanagerPort ? { alertmanagerPort } : {}), warnings };
}

function redisOf(config: ServiceConfig): { redisUrl?: string } {
  const url = config.redis?.url ?? config.health.find((h) => h.kind === 'redis')?.url;
  return url ? { redisUrl: url } : {};
}

function databaseOf(config: ServiceConfig): { databaseUrl?: string } {
  const [url] = databasesOf(config);
  return url ? { databaseUrl: url } : {};
}

function databasesOf(config: ServiceConfig): string[] {
  const urls = [config.postgres?.url, ...config.health.map((h) => (h.kind === 'postgres' ? h.url : undefined)), ...(config.backups ?? []).map((b) => (b.kind === 'postgres' ? b.url : undefined))];
  return [...new Set(urls.filter((u): u is string => typeof u === 'string'))];
}
