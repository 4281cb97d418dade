export { createRestarter, type RestarterOptions } from './create-restarter.js';
export {
  RestartConfig,
  type CommandRestartConfig,
  type DockerRestartConfig,
  type KubernetesRestartConfig,
  type RestartKind,
  type RestartVerify,
  type SupervisorRestartConfig,
  type WebhookRestartConfig,
} from './schema.js';
export type { KindRestarter, RestartOutcome, Restarter } from './types.js';
