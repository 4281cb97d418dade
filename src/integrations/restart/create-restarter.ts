import { createDockerRestarter } from '../docker/docker-restarter.js';
import { createKubernetesRestarter } from '../kubernetes/kubernetes-restarter.js';
import { createSupervisorRestarter } from '../supervisor/supervisor-restarter.js';
import { createWebhookRestarter } from '../webhook/webhook-restarter.js';
import { createCommandRestarter } from './command-restarter.js';
import type { Restarter } from './types.js';

export interface RestarterOptions {
  /** Used by webhook restarts; tests pass a recording fetch. */
  fetchImpl?: typeof fetch;
  /** Wall clock in ms (Kubernetes' restartedAt annotation). */
  now?: () => number;
  /** In-cluster Kubernetes settings (KUBERNETES_SERVICE_HOST/PORT); the composition root passes process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the Kubernetes service account is mounted; defaults to /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
}

/** The Restarter port: picks the adapter by the catalog's `restart.kind`. */
export function createRestarter(opts: RestarterOptions = {}): Restarter {
  const supervisor = createSupervisorRestarter();
  const docker = createDockerRestarter();
  const kubernetes = createKubernetesRestarter({
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.serviceAccountDir ? { serviceAccountDir: opts.serviceAccountDir } : {}),
  });
  const command = createCommandRestarter();
  const webhook = createWebhookRestarter(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {});
  return {
    restart(config, { signal }) {
      switch (config.kind) {
        case 'supervisor':
          return supervisor.restart(config, { signal });
        case 'docker':
          return docker.restart(config, { signal });
        case 'kubernetes':
          return kubernetes.restart(config, { signal });
        case 'command':
          return command.restart(config, { signal });
        case 'webhook':
          return webhook.restart(config, { signal });
        default: {
          const unknown: never = config;
          return Promise.reject(new Error(`unknown restart kind ${(unknown as { kind: string }).kind}`));
        }
      }
    },
  };
}
