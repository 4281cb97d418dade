export { createHealthChecker } from './create-health-checker.js';
export { formatCheckLine } from './format-check-line.js';
export { checkJsonExpect, type JsonExpectedValue } from './json-expect.js';
export {
  HealthCheckConfig,
  HealthCheckList,
  type HealthCheck,
  type HealthCheckKind,
  type HttpHealthCheck,
  type PostgresHealthCheck,
  type RedisHealthCheck,
  type TcpHealthCheck,
  type TlsHealthCheck,
} from './schema.js';
export { summarize } from './summarize.js';
export type { CheckResult, CheckStatus, HealthChecker } from './types.js';
