import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startDaemon, type Daemon } from './daemon.js';
import { DEMO_TIMING, deriveDemoRules, type DemoTiming } from './demo-rules.js';
import type { SystemPlan } from './simulator-plan.js';

const RULES_DIR = fileURLToPath(new URL('../../examples/rules/', import.meta.url));

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
    args: (listen) => [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, `--web.external-url=http://${listen}/`, '--cluster.listen-address=', '--log.level=warn'],
  });
}

/**
 * One real Prometheus per seed system, with the demo's copy of that system's rule file
 * (examples/rules/, shortened by deriveDemoRules), scraping the system's stand-ins, its
 * exporter, and Switchboard's own /metrics for the backup rules. One per system because the
 * rules assume a Prometheus that scrapes only their system (`up == 0` has no job matcher in some).
 */
export async function startPrometheus(options: { dir: string; system: SystemPlan; exporter: string; alertmanagerUrl: string; switchboardUrl: string; timing?: DemoTiming }): Promise<Daemon> {
  const { system } = options;
  const timing = options.timing ?? DEMO_TIMING;
  const dir = join(options.dir, `prometheus-${system.service}`);
  await mkdir(dir, { recursive: true });
  const am = new URL(options.alertmanagerUrl);
  const bot = new URL(options.switchboardUrl);
  const target = (job: string, host: string, extra: object = {}) => ({ job_name: job, ...extra, static_configs: [{ targets: [host] }] });
  const jobs = system.programs.flatMap((p) => (p.job && p.port ? [target(p.job, `127.0.0.1:${p.port}`)] : []));
  jobs.push(target('node', options.exporter));
  if (system.postgresJob) jobs.push(target('postgres', options.exporter, { metrics_path: '/probe/postgres' }));
  jobs.push(target('switchboard', bot.host, { scheme: bot.protocol.replace(':', ''), metrics_path: '/metrics' }));
  const source = `examples/rules/${system.service}.yml`;
  const rulesFile = join(dir, `${system.service}.demo-rules.yml`);
  await writeFile(rulesFile, deriveDemoRules(await readFile(join(RULES_DIR, `${system.service}.yml`), 'utf8'), source, timing));
  const config = {
    global: { scrape_interval: timing.interval, scrape_timeout: timing.interval, evaluation_interval: timing.interval },
    rule_files: [rulesFile],
    alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [am.host] }] }] },
    scrape_configs: jobs,
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  return startDaemon({
    name: 'prometheus',
    command: 'prometheus',
    dir,
    // The external URL makes the alerts' Source links open from a browser on this machine (the default is the host name).
    args: (listen) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, `--web.external-url=http://${listen}/`, '--log.level=warn'],
  });
}
