/**
 * The five seed systems as the simulator stands them in: which supervisord programs each has,
 * which catalog health check gives a program its address, and the Prometheus job it is
 * scraped as (the `job` matchers of examples/rules/). Program names are the catalog's.
 */
export type StandInRole =
  | 'company-api'
  | 'company-worker'
  | 'brownie-api'
  | 'selextract-api'
  | 'selextract-worker'
  | 'dried-fruits-api'
  | 'gateway-proxy'
  | 'gateway-upstream';

export interface SeedProgram {
  role: StandInRole;
  /** The catalog health check (kind http) whose URL names this program's port; none for a worker without HTTP. */
  healthCheck?: string;
  /** Prometheus job name, as the seed's rules and scrape config spell it. */
  job?: string;
}

export interface SeedSystem {
  programs: SeedProgram[];
  /** The program "make it unhealthy / slow" acts on: the one whose failure the runbook's alerts are about. */
  fails: StandInRole;
  /** The program a crash kills: the one the seed's ServiceDown rule watches. */
  crashes: StandInRole;
  /** The seed's rules read `up{job="postgres"}`: scrape the host exporter's PostgreSQL probe under that job. */
  postgresJob?: boolean;
}

export const SEED_SYSTEMS: Readonly<Record<string, SeedSystem>> = {
  'company-extraction': {
    programs: [
      { role: 'company-api', healthCheck: 'api', job: 'company-extraction-api' },
      { role: 'company-worker' },
    ],
    fails: 'company-api',
    crashes: 'company-api',
  },
  'brownie-metadata': { programs: [{ role: 'brownie-api', healthCheck: 'api', job: 'brownie-api' }], fails: 'brownie-api', crashes: 'brownie-api' },
  selextract: {
    programs: [
      { role: 'selextract-api', healthCheck: 'api', job: 'api' },
      { role: 'selextract-worker', healthCheck: 'worker', job: 'worker' },
    ],
    fails: 'selextract-api',
    crashes: 'selextract-api',
  },
  'dried-fruits': { programs: [{ role: 'dried-fruits-api', healthCheck: 'api', job: 'dried-fruits-api' }], fails: 'dried-fruits-api', crashes: 'dried-fruits-api', postgresJob: true },
  'api-gateway': {
    programs: [
      { role: 'gateway-upstream', healthCheck: 'upstream', job: 'api-gateway-upstream' },
      { role: 'gateway-proxy', healthCheck: 'gateway', job: 'api-gateway' },
    ],
    // An ailing upstream trips the proxy's circuit breaker: the runbook's "stuck open" story.
    fails: 'gateway-upstream',
    crashes: 'gateway-proxy',
  },
};

/** How a stand-in behaves; a restart brings it back to `healthy`. */
export const MODES = ['healthy', 'unhealthy', 'slow'] as const;
export type Mode = (typeof MODES)[number];
