import { IntegrationError } from '../integration-error.js';
import { withRedis } from './connect.js';
import { infoNumber, parseRedisInfo } from './info.js';

/** What `INFO memory` and `INFO stats` say about memory, in bytes. */
export interface RedisMemorySummary {
  usedBytes: number;
  /** `maxmemory`; 0 means no limit. */
  maxBytes: number;
  /** used / max × 100; absent without a limit. */
  usedPercent?: number;
  peakBytes: number;
  fragmentationRatio: number;
  evictionPolicy: string;
  evictedKeys: number;
}

export interface RedisCallOptions {
  signal?: AbortSignal;
  /** Connect and per-command timeout; default 5 s. */
  timeoutMs?: number;
}

/** Reads memory use of the Redis at `url` (a catalog URL; it may carry a password). */
export function redisMemory(url: string, options: RedisCallOptions = {}): Promise<RedisMemorySummary> {
  return withRedis(url, { what: 'Reading Redis memory', ...options }, async (client) => {
    const [memory, stats] = await Promise.all([client.info('memory'), client.info('stats')]);
    return memorySummary({ ...parseRedisInfo(memory), ...parseRedisInfo(stats) });
  });
}

/** Builds the summary from parsed INFO fields; pure, so the arithmetic is unit-tested. */
export function memorySummary(info: Record<string, string>): RedisMemorySummary {
  const usedBytes = infoNumber(info, 'used_memory');
  if (usedBytes === undefined) {
    throw new IntegrationError('Redis answered INFO memory without `used_memory`; is this a Redis server (or a proxy that hides INFO)?');
  }
  const maxBytes = infoNumber(info, 'maxmemory') ?? 0;
  return {
    usedBytes,
    maxBytes,
    ...(maxBytes > 0 ? { usedPercent: (usedBytes / maxBytes) * 100 } : {}),
    peakBytes: infoNumber(info, 'used_memory_peak') ?? usedBytes,
    fragmentationRatio: infoNumber(info, 'mem_fragmentation_ratio') ?? 0,
    evictionPolicy: info.maxmemory_policy ?? 'unknown',
    evictedKeys: infoNumber(info, 'evicted_keys') ?? 0,
  };
}

export interface MemoryThresholds {
  warnPercent?: number;
  critPercent?: number;
}

/**
 * Slack mrkdwn lines: the figures, a warning at `warnPercent` (80) or `critPercent` (90), and a
 * hint when there is no limit or the policy is `noeviction`. Never suggests FLUSHDB: it deletes data.
 */
export function formatRedisMemory(summary: RedisMemorySummary, { warnPercent = 80, critPercent = 90 }: MemoryThresholds = {}): string {
  const used = summary.maxBytes > 0 ? `${formatBytes(summary.usedBytes)} of ${formatBytes(summary.maxBytes)} (${formatPercent(summary.usedPercent ?? 0)})` : `${formatBytes(summary.usedBytes)} (no limit)`;
  const lines = [
    `*Memory:* ${used} · peak ${formatBytes(summary.peakBytes)} · fragmentation ${summary.fragmentationRatio.toFixed(2)}`,
    `*Eviction:* policy \`${summary.evictionPolicy}\` · ${summary.evictedKeys.toLocaleString('en-US')} keys evicted since start`,
  ];
  const percent = summary.usedPercent;
  if (percent !== undefined && percent >= critPercent) {
    lines.push(`:rotating_light: Memory is at ${formatPercent(percent)} of \`maxmemory\` (critical at ${critPercent}%).`);
  } else if (percent !== undefined && percent >= warnPercent) {
    lines.push(`:warning: Memory is at ${formatPercent(percent)} of \`maxmemory\` (warning at ${warnPercent}%).`);
  }
  if (summary.maxBytes === 0) {
    lines.push('_Hint:_ no `maxmemory` is set, so Redis grows until the host runs out of memory; set a limit below the container or host memory.');
  }
  if (summary.evictionPolicy === 'noeviction') {
    lines.push('_Hint:_ with `noeviction`, writes fail with OOM errors once the limit is reached; a cache usually wants `allkeys-lru` (`CONFIG SET maxmemory-policy allkeys-lru`).');
  }
  return lines.join('\n');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 → "1.5 KiB"; Redis reports binary units in its own `_human` fields. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

function formatPercent(percent: number): string {
  // Floored, so 89.6% never reads as "90%" under a 90% threshold it has not reached.
  return `${percent < 10 ? (Math.floor(percent * 10) / 10).toFixed(1) : Math.floor(percent)}%`;
}
