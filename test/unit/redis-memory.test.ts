import { describe, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { formatBytes, formatRedisMemory, memorySummary, type RedisMemorySummary } from '../../src/integrations/redis/memory.js';

describe('memorySummary', () => {
  it('computes the percent when maxmemory is set', () => {
    expect(
      memorySummary({
        used_memory: '429496730',
        used_memory_peak: '500000000',
        maxmemory: '536870912',
        maxmemory_policy: 'allkeys-lru',
        mem_fragmentation_ratio: '1.07',
        evicted_keys: '42',
      }),
    ).toEqual({ usedBytes: 429496730, maxBytes: 536870912, usedPercent: 80.00000007450581, peakBytes: 500000000, fragmentationRatio: 1.07, evictionPolicy: 'allkeys-lru', evictedKeys: 42 });
  });

  it('leaves the percent out without a limit', () => {
    expect(memorySummary({ used_memory: '1000', maxmemory: '0' })).toEqual({ usedBytes: 1000, maxBytes: 0, peakBytes: 1000, fragmentationRatio: 0, evictionPolicy: 'unknown', evictedKeys: 0 });
  });

  it('refuses INFO without used_memory', () => {
    expect(() => memorySummary({})).toThrow(IntegrationError);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [512 * 1024 * 1024, '512.0 MiB'],
    [3.25 * 1024 ** 3, '3.25 GiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatRedisMemory', () => {
  const base: RedisMemorySummary = { usedBytes: 100 * 1024 ** 2, maxBytes: 512 * 1024 ** 2, usedPercent: 19.53125, peakBytes: 120 * 1024 ** 2, fragmentationRatio: 1.234, evictionPolicy: 'allkeys-lru', evictedKeys: 12345 };

  it('shows figures only when healthy', () => {
    expect(formatRedisMemory(base)).toBe(
      ['*Memory:* 100.0 MiB of 512.0 MiB (19%) · peak 120.0 MiB · fragmentation 1.23', '*Eviction:* policy `allkeys-lru` · 12,345 keys evicted since start'].join('\n'),
    );
  });

  it.each([
    [79.9, undefined],
    [80, ':warning: Memory is at 80% of `maxmemory` (warning at 80%).'],
    [89.6, ':warning: Memory is at 89% of `maxmemory` (warning at 80%).'],
    [90, ':rotating_light: Memory is at 90% of `maxmemory` (critical at 90%).'],
  ])('at %d%% warns with %j', (usedPercent, warning) => {
    const lines = formatRedisMemory({ ...base, usedPercent }).split('\n');
    expect(lines[2]).toBe(warning);
  });

  it('takes custom thresholds', () => {
    expect(formatRedisMemory({ ...base, usedPercent: 60 }, { warnPercent: 50, critPercent: 60 })).toContain(':rotating_light: Memory is at 60% of `maxmemory` (critical at 60%).');
  });

  it('hints at a missing limit and at noeviction, never at FLUSHDB', () => {
    const { usedPercent: _unused, ...unlimited } = base;
    const text = formatRedisMemory({ ...unlimited, maxBytes: 0, evictionPolicy: 'noeviction' });
    expect(text).toContain('*Memory:* 100.0 MiB (no limit)');
    expect(text).toContain('_Hint:_ no `maxmemory` is set');
    expect(text).toContain('_Hint:_ with `noeviction`, writes fail with OOM errors');
    expect(text).not.toMatch(/FLUSH/i);
    expect(text).not.toContain(':warning:');
  });
});
