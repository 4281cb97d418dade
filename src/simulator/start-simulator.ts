import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Catalog } from '../config/catalog-schema.js';
import { failNextBackup, type ArmedBackupFailure } from './backup-failure.js';
import { CONDITIONS, writeConditions, type Condition } from './conditions.js';
import { ensureDatabases, startLongQuery } from './databases.js';
import type { DemoTiming } from './demo-rules.js';
import { createGatewayBreaker } from './gateway-breaker.js';
import { startAlertmanager, startPrometheus } from './monitoring.js';
import { SEED_SYSTEMS, type Mode } from './seed-systems.js';
import { planSimulator, type SimulatorPlan, type SystemPlan } from './simulator-plan.js';
import { CONTROL_PATH } from './stand-in-server.js';
import { startSupervisor } from './supervisor.js';
import { startSystemExporter } from './system-exporter.js';

export interface SimulatorOptions {
  catalog: Catalog;
  /** Base URL of the bot, where Alertmanager posts (`<botUrl>/alertmanager`). */
  botUrl: string;
  /** ALERTMANAGER_WEBHOOK_TOKEN of the bot, sent by Alertmanager as a bearer token. */
  webhookToken?: string;
  /** `auto`: run Prometheus and Alertmanager when they are installed. */
  monitoring?: 'auto' | 'off';
  /** How much the demo's copy of the rules is shortened; DEMO_TIMING by default. */
  timing?: DemoTiming;
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
  /** Puts the system in a simulated condition (host, Redis, PostgreSQL, worker, certificate, rate limit). */
  setCondition(service: string, condition: Condition): Promise<void>;
  /** Makes the next pg_dump of each of the system's databases fail. */
  failNextBackup(service: string): Promise<void>;
  /** Every program healthy (crashed ones stay down), no condition, no backup set to fail. */
  heal(service: string): Promise<void>;
  stop(): Promise<void>;
}

// tsx compiles each stand-in at start: on a busy two-core machine that alone can take half a minute.
const STAND_IN_READY_MS = 90_000;

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

/**
 * The gateway proxy calls its upstream from its first second; if it started before the upstream
 * listened, those failures opened its breaker. Once every stand-in answers, the demo starts
 * from a closed breaker (also when a previous run left one open), as deleting the key does.
 */
async function closeBreakers(plan: SimulatorPlan): Promise<void> {
  for (const { breaker } of plan.systems.flatMap((s) => s.programs)) {
    if (!breaker) continue;
    const redis = new Redis(breaker.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await redis.del(breaker.key);
    } finally {
      redis.disconnect();
    }
  }
}

const installed = (command: string) => !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;

/**
 * Stand-ins for the five seed systems on the catalog's loopback ports: HTTP services under a real
 * supervisord, their databases in the real PostgreSQL, the gateway's breaker in the real Redis, an
 * exporter of simulated host, Redis and PostgreSQL figures per system, and (when installed) a
 * Prometheus per system with the demo's copy of its rules, scraping the bot's /metrics too, and
 * an Alertmanager pointed at the bot.
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
    // Each system's simulated conditions, in memory for its exporter and in a file for its stand-ins.
    const conditions = new Map(plan.systems.map((s) => [s.service, new Set<Condition>()]));
    const conditionsFile = (service: string) => join(dir, `conditions-${service}.json`);
    for (const system of plan.systems) {
      await writeConditions(conditionsFile(system.service), new Set());
      for (const program of system.programs) program.conditionsFile = conditionsFile(system.service);
    }
    const created = await ensureDatabases(plan.systems.flatMap((s) => s.databases));
    if (created.length) log(`created databases ${created.join(', ')}`);
    const supervisor = await startSupervisor({ dir, port: plan.supervisorPort, programs: plan.systems.flatMap((s) => s.programs) });
    stoppers.push(() => supervisor.stop());
    await waitForStandIns(plan);
    await closeBreakers(plan);
    log(`supervisord on ${supervisor.url} runs ${plan.systems.flatMap((s) => s.programs.map((p) => p.program)).join(', ')}`);

    const exporters: Record<string, string> = {};
    for (const system of plan.systems) {
      const exporter = await startSystemExporter(() => conditions.get(system.service)!);
      stoppers.push(() => exporter.stop());
      exporters[system.service] = exporter.target;
    }

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
      const started = await Promise.allSettled(
        plan.systems.map((system) =>
          startPrometheus({ dir, system, exporter: exporters[system.service]!, alertmanagerUrl: am.url, switchboardUrl: options.botUrl, ...(options.timing ? { timing: options.timing } : {}) }),
        ),
      );
      started.forEach((result, i) => {
        if (result.status === 'fulfilled') {
          stoppers.push(() => result.value.stop());
          prometheus[plan.systems[i]!.service] = result.value.url;
        }
      });
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      log(`Alertmanager on ${am.url} posts to ${options.botUrl}/alertmanager; Prometheus per system: ${Object.entries(prometheus).map(([s, u]) => `${s} ${u}`).join(', ')}`);
    } else if (options.monitoring !== 'off') {
      log('prometheus and prometheus-alertmanager are not installed: no alerts will fire (apt-get install prometheus prometheus-alertmanager)');
    }

    const systemOf = (service: string): SystemPlan => {
      const system = plan.systems.find((s) => s.service === service);
      if (!system) throw new Error(`no simulated service ${service}; there are ${plan.systems.map((s) => s.service).join(', ')}`);
      return system;
    };
    const post = async (program: SystemPlan['programs'][number], body: object) => {
      const res = await fetch(`http://127.0.0.1:${program.port}${CONTROL_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(3_000) });
      if (!res.ok) throw new Error(`${program.program} answered ${res.status}: ${await res.text()}`);
    };
    const control = async (service: string, role: 'fails' | 'crashes', body: object) => {
      const program = systemOf(service).programs.find((p) => p.role === SEED_SYSTEMS[service]![role]);
      if (!program?.port) throw new Error(`${service} has no program to control`);
      await post(program, body);
    };
    const armed = new Map<string, ArmedBackupFailure[]>();
    const disarm = async (service: string) => {
      for (const failure of armed.get(service) ?? []) await failure.disarm();
      armed.delete(service);
    };
    stoppers.push(async () => {
      for (const service of [...armed.keys()]) await disarm(service);
    });
    const setConditions = async (service: string, change: (set: Set<Condition>) => void) => {
      const set = conditions.get(systemOf(service).service)!;
      change(set);
      await writeConditions(conditionsFile(service), set);
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
      async setCondition(service, condition) {
        if (!Object.hasOwn(CONDITIONS, condition)) throw new Error(`no condition ${condition}; there are ${Object.keys(CONDITIONS).join(', ')}`);
        await setConditions(service, (set) => set.add(condition));
      },
      async failNextBackup(service) {
        const { databases } = systemOf(service);
        if (databases.length === 0) throw new Error(`${service} has no PostgreSQL database; a Redis BGSAVE cannot be made to fail without touching the real Redis`);
        await disarm(service);
        armed.set(service, await Promise.all(databases.map((url) => failNextBackup(url))));
      },
      async heal(service) {
        const system = systemOf(service);
        await setConditions(service, (set) => set.clear());
        await disarm(service);
        // A crashed program does not answer; it stays down until restarted, as `k` promises.
        await Promise.all(system.programs.filter((p) => p.port).map((p) => post(p, { mode: 'healthy' }).catch(() => undefined)));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
