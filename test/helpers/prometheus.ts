import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon, type Daemon } from './alertmanager.js';
import { programPath } from './requires.js';

export interface PrometheusOptions {
  /** Absolute paths of rule files (`groups: [{ name, rules: [...] }]`). */
  rulesFiles: string[];
  /** `host:port` of /metrics endpoints, scraped as job "test". */
  scrapeTargets: string[];
  /** Base URL of the Alertmanager to send alerts to, e.g. from startAlertmanager(). */
  alertmanagerUrl: string;
  evaluationInterval?: string;
  scrapeInterval?: string;
}

/** A real Prometheus (Debian `prometheus`) with its TSDB in a temporary folder, evaluating the given rules. Needs `requires('prometheus')`. */
export async function startPrometheus(options: PrometheusOptions): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-prometheus-'));
  const am = new URL(options.alertmanagerUrl);
  const config = {
    global: {
      scrape_interval: options.scrapeInterval ?? '1s',
      scrape_timeout: options.scrapeInterval ?? '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    rule_files: options.rulesFiles,
    alerting: {
      alertmanagers: [
        {
          api_version: 'v2',
          scheme: am.protocol.replace(':', ''),
          ...(am.pathname !== '/' ? { path_prefix: am.pathname } : {}),
          static_configs: [{ targets: [am.host] }],
        },
      ],
    },
    scrape_configs: [{ job_name: 'test', static_configs: [{ targets: options.scrapeTargets }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  return startDaemon({
    name: 'prometheus',
    command: programPath('prometheus'),
    dir,
    args: (listen) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
      '--log.level=warn',
    ],
  });
}
