export { redisBgsave, type RedisBgsaveOptions, type RedisBgsaveResult } from './bgsave.js';
export type { CircuitProbeResult } from './circuit-breaker-probe.js';
export { CircuitBreakerConfig, CircuitBreakerList, type CircuitBreaker, type CircuitBreakerProbe } from './circuit-breaker-schema.js';
export {
  circuitStatusFromFields,
  circuitStatusFromString,
  formatCircuitStatus,
  parseCircuitState,
  parseTimestamp,
  type CircuitState,
  type CircuitStatus,
} from './circuit-breaker-status.js';
export { createRedisCircuitBreakers, type CircuitBreakers, type CircuitResetOutcome, type RedisCircuitBreakersOptions } from './circuit-breakers.js';
export { parseRedisInfo } from './info.js';
export { formatBytes, formatRedisMemory, memorySummary, redisMemory, type MemoryThresholds, type RedisCallOptions, type RedisMemorySummary } from './memory.js';
