import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Catalog } from '../config/catalog-schema.js';
import { ensureDatabases, startLongQuery } from './databases.js';
import { createGatewayBreaker } from './gateway-breaker.js';
import { startHostExporter } from './host-exporter.js';
import { startAlertmanager, startPrometheus } from './monitoring.js';
import { SEED_SYSTEMS, type Mode } from './seed-systems.js';
import { planSimulator, type SimulatorPlan, type SystemPlan } from './simulator-plan.js';
import { CONTROL_PATH } from './stand-in-server.js';
import { startSupervisor } from './supervisor.js';

export interface SimulatorOptions {
  catalog: Catalog;
  /** Base URL of the bot, where Alertmanager posts (`<botUrl>/alertmanager`). */
  botUrl: string;
  /** ALERTMANAGER_WEBHOOK_TOKEN of the bot, sent by Alertmanager as a bearer token. */
  webhookToken?: string;
  /** `auto`: run Prometheus and Alertmanager when they are installed. */
  monitoring?: 'auto' | 'off';
  log?: (line: string) => void;
}

export interface Simulator {
  plan: SimulatorPlan;
  supervisorUrl: string;
  alertmanagerUrl?: string;
  /** Prometheus URL per service, when monitoring runs. */
  prometheus: Record<string, string>;
  /** Sets the mode of the service's failing program (the gateway's upstream, the others' API). */
  setMode(service: string, mode: Mode): Promise<void>;
  /** Kills the program its ServiceDown rule watches; it stays down until restarted. */
  crash(service: string): Promise<void>;
  /** Opens the gateway's circuit breaker in Redis, as a burst of upstream failures would. */
  tripBreaker(): Promise<void>;
  /** Starts a query that runs until killed on the service's database. */
  longQuery(service: string): Promise<void>;
  stop(): Promise<void>;
}

const STAND_IN_READY_MS = 30_000;

/** Until every stand-in with a port answers its control endpoint (supervisord's RUNNING comes first). */
async function waitForStandIns(plan: SimulatorPlan): Promise<void> {
  const deadline = Date.now() + STAND_IN_READY_MS;
  for (const program of plan.systems.flatMap((s) => s.programs).filter((p) => p.port)) {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${program.port}${CONTROL_PATH}`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${program.program} does not answer on port ${program.port}; is the port taken?`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const installed = (command: string) => !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;

/**
 * Stand-ins for the five seed systems on the catalog's loopback ports: HTTP services under a real
 * supervisord, their databases in the real PostgreSQL, the gateway's breaker in the real Redis, a
 * host exporter, and (when installed) Prometheus with the seeds' rules and Alertmanager pointed at the bot.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const log = options.log ?? (() => undefined);
  const plan = planSimulator(options.catalog);
  for (const warning of plan.warnings) log(`warning: ${warning}`);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-simulator-'));
  const stoppers: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const stopOne of stoppers.splice(0).reverse()) await stopOne().catch((error: unknown) => log(`while stopping: ${String(error)}`));
  };
  try {
    const created = await ensureDatabases(plan.systems.flatMap((s) => s.databases));
    if (created.length) log(`created databases ${created.join(', ')}`);
    const supervisor = await startSupervisor({ dir, port: plan.supervisorPort, programs: plan.systems.flatMap((s) => s.programs) });
    stoppers.push(() => supervisor.stop());
    await waitForStandIns(plan);
    log(`supervisord on ${supervisor.url} runs ${plan.systems.flatMap((s) => s.programs.map((p) => p.program)).join(', ')}`);

    const first = <K extends 'redisUrl' | 'databaseUrl'>(key: K) => plan.systems.flatMap((s) => s.programs.map((p) => p[key])).find((v) => v !== undefined);
    const exporter = await startHostExporter({ ...(first('redisUrl') ? { redisUrl: first('redisUrl')! } : {}), ...(first('databaseUrl') ? { databaseUrl: first('databaseUrl')! } : {}) });
    stoppers.push(() => exporter.stop());

    const prometheus: Record<string, string> = {};
    let alertmanagerUrl: string | undefined;
    if (options.monitoring !== 'off' && installed('prometheus') && installed('prometheus-alertmanager')) {
      const am = await startAlertmanager({
        dir,
        webhookUrl: `${options.botUrl.replace(/\/+$/, '')}/alertmanager`,
        ...(options.webhookToken ? { bearerToken: options.webhookToken } : {}),
        ...(plan.alertmanagerPort ? { port: plan.alertmanagerPort } : {}),
      });
      stoppers.push(() => am.stop());
      alertmanagerUrl = am.url;
      for (const system of plan.systems) {
        const p = await startPrometheus({ dir, system, hostExporter: exporter.target, alertmanagerUrl: am.url });
        stoppers.push(() => p.stop());
        prometheus[system.service] = p.url;
      }
      log(`Alertmanager on ${am.url} posts to ${options.botUrl}/alertmanager; Prometheus per system: ${Object.entries(prometheus).map(([s, u]) => `${s} ${u}`).join(', ')}`);
    } else if (options.monitoring !== 'off') {
      log('prometheus and prometheus-alertmanager are not installed: no alerts will fire (apt-get install prometheus prometheus-alertmanager)');
    }

    const systemOf = (service: string): SystemPlan => {
      const system = plan.systems.find((s) => s.service === service);
      if (!system) throw new Error(`no simulated service ${service}; there are ${plan.systems.map((s) => s.service).join(', ')}`);
      return system;
    };
    const control = async (service: string, role: 'fails' | 'crashes', body: object) => {
      const program = systemOf(service).programs.find((p) => p.role === SEED_SYSTEMS[service]![role]);
      if (!program?.port) throw new Error(`${service} has no program to control`);
      const res = await fetch(`http://127.0.0.1:${program.port}${CONTROL_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(3_000) });
      if (!res.ok) throw new Error(`${program.program} answered ${res.status}: ${await res.text()}`);
    };

    return {
      plan,
      supervisorUrl: supervisor.url,
      ...(alertmanagerUrl ? { alertmanagerUrl } : {}),
      prometheus,
      setMode: (service, mode) => control(service, 'fails', { mode }),
      crash: (service) => control(service, 'crashes', { crash: true }),
      async tripBreaker() {
        const proxy = systemOf('api-gateway').programs.find((p) => p.breaker);
        if (!proxy?.breaker) throw new Error('the catalog gives api-gateway no circuit breaker');
        const redis = new Redis(proxy.breaker.redisUrl, { maxRetriesPerRequest: 1 });
        try {
          await createGatewayBreaker(redis, proxy.breaker.key).trip();
        } finally {
          redis.disconnect();
        }
      },
      async longQuery(service) {
        const [url] = systemOf(service).databases;
        if (!url) throw new Error(`${service} has no PostgreSQL database`);
        const query = await startLongQuery(url);
        stoppers.push(() => query.stop());
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
