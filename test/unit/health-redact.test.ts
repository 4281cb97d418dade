import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/integrations/health/describe-error.js';
import { redact, redactUrlCredentials, secretsOf } from '../../src/integrations/health/redact.js';
import { HealthCheckConfig } from '../../src/integrations/health/schema.js';

describe('redactUrlCredentials', () => {
  it.each([
    ['connect to postgres://app:s3cret@db:5432/x failed', 'connect to postgres://app:***@db:5432/x failed'],
    ['redis://:onlypass@h:6379', 'redis://:***@h:6379'],
    ['http://user@h/ has no password', 'http://user@h/ has no password'],
    ['no url here', 'no url here'],
  ])('%s', (text, clean) => {
    expect(redactUrlCredentials(text)).toBe(clean);
  });
});

describe('redact with the secrets of a check', () => {
  it('removes the URL password even when an error quotes it alone, encoded or not', () => {
    const check = HealthCheckConfig.parse({ name: 'db', kind: 'postgres', url: 'postgres://app:p%40ss@127.0.0.1/db' });
    expect(redact('password p@ss rejected (p%40ss)', secretsOf(check))).toBe('password *** rejected (***)');
  });

  it('removes configured header values', () => {
    const check = HealthCheckConfig.parse({ name: 'api', kind: 'http', url: 'http://h/', headers: { 'X-Api-Key': 'k-123' } });
    expect(redact('bad key k-123', secretsOf(check))).toBe('bad key ***');
  });
});

describe('describeError', () => {
  const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  it.each([
    [withCode('ECONNREFUSED'), 'connection refused (127.0.0.1:5999)'],
    [new TypeError('fetch failed', { cause: withCode('ECONNRESET') }), 'connection reset (127.0.0.1:5999)'],
    [withCode('ENOTFOUND'), 'host not found (127.0.0.1)'],
    [new Error('WRONGPASS invalid username-password pair\nstack'), 'WRONGPASS invalid username-password pair'],
    ['plain string', 'plain string'],
    [new Error('x'.repeat(500)), `${'x'.repeat(199)}…`],
  ])('%s', (error, reason) => {
    expect(describeError(error, '127.0.0.1:5999')).toBe(reason);
  });
});
