import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startDaemon, type Daemon } from './daemon.js';
import type { SystemPlan } from './simulator-plan.js';

const RULES_DIR = fileURLToPath(new URL('../../examples/rules/', import.meta.url));

/** Short intervals, so a failure set in the simulator reaches the bot within the rules' own `for:`. */
const SCRAPE_INTERVAL = '5s';

/** A real Alertmanager (Debian `prometheus-alertmanager`) sending every alert group to the bot's `/alertmanager`. */
export async function startAlertmanager(options: { dir: string; webhookUrl: string; bearerToken?: string; port?: number }): Promise<Daemon> {
  const dir = join(options.dir, 'alertmanager');
  await mkdir(dir, { recursive: true });
  const config = {
    route: { receiver: 'switchboard', group_by: ['alertname', 'service'], group_wait: '10s', group_interval: '30s', repeat_interval: '4h' },
    receivers: [
      {
        name: 'switchboard',
        webhook_configs: [
          { url: options.webhookUrl, send_resolved: true, ...(options.bearerToken ? { http_config: { authorization: { type: 'Bearer', credentials: options.bearerToken } } } : {}) },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'alertmanager.yml'), stringify(config), { mode: 0o600 });
  return startDaemon({
    name: 'alertmanager',
    command: 'prometheus-alertmanager',
    dir,
    ...(options.port ? { port: options.port } : {}),
    args: (listen) => [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--cluster.listen-address=', '--log.level=warn'],
  });
}

/**
 * One real Prometheus per seed system, with that system's rule file from examples/rules/: the
 * rules assume a Prometheus that scrapes only their system (`up == 0` has no job matcher in some).
 */
export async function startPrometheus(options: { dir: string; system: SystemPlan; hostExporter: string; alertmanagerUrl: string }): Promise<Daemon> {
  const { system } = options;
  const dir = join(options.dir, `prometheus-${system.service}`);
  await mkdir(dir, { recursive: true });
  const am = new URL(options.alertmanagerUrl);
  const jobs = system.programs.flatMap((p) => (p.job && p.port ? [{ job_name: p.job, static_configs: [{ targets: [`127.0.0.1:${p.port}`] }] }] : []));
  jobs.push({ job_name: 'node', static_configs: [{ targets: [options.hostExporter] }] });
  if (system.postgresJob) jobs.push({ job_name: 'postgres', metrics_path: '/probe/postgres', static_configs: [{ targets: [options.hostExporter] }] } as (typeof jobs)[number]);
  const config = {
    global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL },
    rule_files: [join(RULES_DIR, `${system.service}.yml`)],
    alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [am.host] }] }] },
    scrape_configs: jobs,
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  return startDaemon({
    name: 'prometheus',
    command: 'prometheus',
    dir,
    args: (listen) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--log.level=warn'],
  });
}
