import { describe, expect, it } from 'vitest';
import { CircuitBreakerConfig, CircuitBreakerList } from '../../src/integrations/redis/circuit-breaker-schema.js';
import {
  circuitStatusFromFields,
  circuitStatusFromString,
  formatCircuitStatus,
  parseCircuitState,
  parseTimestamp,
  type CircuitStatus,
} from '../../src/integrations/redis/circuit-breaker-status.js';

const messages = (raw: unknown) => {
  const result = CircuitBreakerConfig.safeParse(raw);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('CircuitBreakerConfig', () => {
  it('fills in defaults: hash, delete, probe status 200 and timeout 5s', () => {
    expect(
      CircuitBreakerConfig.parse({
        name: 'upstream',
        redis: 'redis://127.0.0.1:6379/2',
        key: 'api-gateway:circuit-breaker',
        probe: { url: 'http://127.0.0.1:5000/proxy/ok' },
      }),
    ).toEqual({
      name: 'upstream',
      redis: 'redis://127.0.0.1:6379/2',
      key: 'api-gateway:circuit-breaker',
      type: 'hash',
      reset: 'delete',
      probe: { url: 'http://127.0.0.1:5000/proxy/ok', expectStatus: 200, timeout: 5_000 },
    });
  });

  it('explains every problem at once without echoing the Redis URL', () => {
    const problems = messages({
      name: 'Upstream',
      redis: 'http://:s3cret@host',
      key: 'has space',
      type: 'list',
      reset: 'flush',
      probe: { url: 'http://user:pw@host/ok', expectStatus: 99, timeout: '2 minutes' },
      extra: 1,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^: unknown key "extra" \(allowed: name, redis, key, type, reset, probe\)$/),
        expect.stringMatching(/^name: use lowercase letters/),
        'redis: must be a valid redis:// or rediss:// URL',
        'key: use printable ASCII characters without spaces',
        'type: must be "hash" or "string"',
        expect.stringMatching(/^reset: must be "delete" \(remove the key\) or "close"/),
        'probe.url: must not contain a user name or password',
        'probe.expectStatus: must be an HTTP status between 100 and 599',
        expect.stringMatching(/^probe.timeout: "2 minutes" is not a duration/),
      ]),
    );
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('rejects duplicate names in the list', () => {
    const one = { name: 'upstream', redis: 'redis://127.0.0.1', key: 'a' };
    const result = CircuitBreakerList.safeParse([one, { ...one, key: 'b' }]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: [1, 'name'], message: 'duplicate circuit breaker name "upstream"' });
  });
});

describe('parseCircuitState', () => {
  it.each([
    ['open', 'open'],
    ['OPEN', 'open'],
    ['closed', 'closed'],
    ['CLOSED', 'closed'],
    ['half_open', 'half-open'],
    ['HALF_OPEN', 'half-open'],
    ['Half-Open', 'half-open'],
    ['halfopen', 'half-open'],
    ['tripped', 'unknown'],
    ['2', 'unknown'],
  ])('%s → %s', (text, state) => {
    expect(parseCircuitState(text)).toBe(state);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['1716998520', '2024-05-29T16:02:00.000Z'],
    ['1716998520.75', '2024-05-29T16:02:00.750Z'],
    ['1716998520123', '2024-05-29T16:02:00.123Z'],
    ['2024-05-29T16:02:00Z', '2024-05-29T16:02:00.000Z'],
    ['2024-05-29T18:02:00+02:00', '2024-05-29T16:02:00.000Z'],
    // Python's isoformat(): microseconds, no offset (read as UTC).
    ['2024-05-29T16:02:00.123456', '2024-05-29T16:02:00.123Z'],
    ['2024-05-29 16:02:00', '2024-05-29T16:02:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(parseTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each(['', '0', 'yesterday', '-5', '29/05/2024'])('rejects %j', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});

describe('circuitStatusFromFields', () => {
  it('reads the seed gateway hash', () => {
    expect(circuitStatusFromFields({ state: 'open', failures: '12', opened_at: '1716998520' }, 30)).toEqual({
      exists: true,
      state: 'open',
      failures: 12,
      openedAt: new Date('2024-05-29T16:02:00Z'),
      fields: { state: 'open', failures: '12', opened_at: '1716998520' },
      ttlSeconds: 30,
    });
  });

  it('reads the alternative field names, case-insensitively', () => {
    const status = circuitStatusFromFields({ Status: 'HALF_OPEN', failure_count: '3', open_since: '2024-05-29T16:02:00Z' });
    expect(status).toMatchObject({ state: 'half-open', failures: 3, openedAt: new Date('2024-05-29T16:02:00Z') });
    expect(status).not.toHaveProperty('ttlSeconds');
  });

  it('falls back to last_failure_time and leaves out what it cannot read', () => {
    const status = circuitStatusFromFields({ failures: 'many', last_failure_time: '1716998520' });
    expect(status).toEqual({ exists: true, state: 'unknown', openedAt: new Date('2024-05-29T16:02:00Z'), fields: { failures: 'many', last_failure_time: '1716998520' } });
  });
});

describe('circuitStatusFromString', () => {
  it('reads a plain state', () => {
    expect(circuitStatusFromString('OPEN')).toEqual({ exists: true, state: 'open', fields: { value: 'OPEN' } });
  });

  it('reads a JSON object like a hash', () => {
    expect(circuitStatusFromString('{"state":"open","failure_count":7,"opened_at":1716998520,"meta":{"x":1}}', 12)).toEqual({
      exists: true,
      state: 'open',
      failures: 7,
      openedAt: new Date('2024-05-29T16:02:00Z'),
      fields: { state: 'open', failure_count: '7', opened_at: '1716998520' },
      ttlSeconds: 12,
    });
  });
});

describe('formatCircuitStatus', () => {
  const now = new Date('2024-05-29T16:09:30Z');
  const status = (partial: Partial<CircuitStatus>): CircuitStatus => ({ exists: true, state: 'open', fields: {}, ...partial });

  it.each<[string, Partial<CircuitStatus>, string]>([
    ['open with time and failures', { openedAt: new Date('2024-05-29T16:02:00Z'), failures: 12 }, '*open* since 16:02 UTC (7m), 12 failures'],
    ['open since another day', { openedAt: new Date('2024-05-28T23:50:00Z'), failures: 1 }, '*open* since 2024-05-28 23:50 UTC (16h 19m), 1 failure'],
    ['open, gateway clock ahead', { openedAt: new Date('2024-05-29T16:10:00Z') }, '*open* since 16:10 UTC'],
    ['half-open with a TTL', { state: 'half-open', failures: 3, ttlSeconds: 25 }, '*half-open*, 3 failures, key expires in 25s'],
    ['closed ignores opened_at', { state: 'closed', failures: 0, openedAt: new Date('2024-05-29T16:02:00Z') }, '*closed*, 0 failures'],
    ['unknown shows escaped fields', { state: 'unknown', fields: { state: '<tripped>', n: '`1`' } }, '*unknown state*, fields: `state=&lt;tripped&gt;, n=\'1\'`'],
    ['absent key', { exists: false, state: 'closed' }, '*closed* (no state in Redis: the key is absent)'],
  ])('%s', (_name, partial, line) => {
    expect(formatCircuitStatus(status(partial), now)).toBe(line);
  });
});
