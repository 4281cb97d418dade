import type { RestartConfig } from './schema.js';

/** What a restart did, for the thread and the audit record. */
export interface RestartOutcome {
  /** One line, e.g. "supervisord restarted company-api (pid 4120 → 4188)". */
  detail: string;
  /** What was restarted: program, container or workload names, the command, or the webhook URL. */
  targets: string[];
}

/** Port used by the service.restart action; failures are IntegrationErrors worded for the operator. */
export interface Restarter {
  restart(config: RestartConfig, opts: { signal: AbortSignal }): Promise<RestartOutcome>;
}

/** One adapter (`SupervisorRestarter`, `DockerRestarter`, ...): restarts services of one kind. */
export interface KindRestarter<Config extends RestartConfig> {
  restart(config: Config, opts: { signal: AbortSignal }): Promise<RestartOutcome>;
}
