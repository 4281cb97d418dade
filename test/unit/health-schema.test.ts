import { describe, expect, it } from 'vitest';
import { HealthCheckConfig, HealthCheckList } from '../../src/integrations/health/schema.js';

function problems(input: unknown): string[] {
  const parsed = HealthCheckConfig.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('HealthCheckConfig', () => {
  it('fills defaults for every kind', () => {
    expect(HealthCheckConfig.parse({ name: 'api', kind: 'http', url: 'http://127.0.0.1:5000/health' })).toEqual({
      name: 'api', kind: 'http', url: 'http://127.0.0.1:5000/health', method: 'GET', timeout: 5_000,
    });
    expect(HealthCheckConfig.parse({ name: 'db-port', kind: 'tcp', host: '127.0.0.1', port: 5432 })).toEqual({
      name: 'db-port', kind: 'tcp', host: '127.0.0.1', port: 5432, timeout: 5_000,
    });
    expect(HealthCheckConfig.parse({ name: 'redis', kind: 'redis', url: 'rediss://127.0.0.1:6379/0' })).toMatchObject({ timeout: 5_000 });
    expect(HealthCheckConfig.parse({ name: 'db', kind: 'postgres', url: 'postgresql://u:pw@127.0.0.1/db' })).toMatchObject({
      warnConnectionsPercent: 80, timeout: 5_000,
    });
    expect(HealthCheckConfig.parse({ name: 'cert', kind: 'tls', host: 'example.com' })).toEqual({
      name: 'cert', kind: 'tls', host: 'example.com', port: 443, warnDays: 30, timeout: 5_000,
    });
  });

  it('parses a full http check as written in the catalog', () => {
    const check = HealthCheckConfig.parse({
      name: 'api', kind: 'http', url: 'https://api.example.com/health', method: 'HEAD',
      headers: { 'X-Api-Key': 'k' }, expect: { status: 204 }, timeout: '1.5s',
    });
    expect(check).toMatchObject({ method: 'HEAD', headers: { 'X-Api-Key': 'k' }, expect: { status: 204 }, timeout: 1_500 });
    expect(HealthCheckConfig.parse({
      name: 'api', kind: 'http', url: 'http://h/health', expect: { json: { status: 'healthy', 'dependencies.*': 'healthy', up: true, n: 1 } },
    })).toMatchObject({ expect: { json: { status: 'healthy', 'dependencies.*': 'healthy', up: true, n: 1 } } });
  });

  it.each([
    ['http url with another scheme', { name: 'a', kind: 'http', url: 'ftp://h/x' }, 'url: must be a valid http:// or https:// URL'],
    ['http url that is not a URL', { name: 'a', kind: 'http', url: 'localhost:5000' }, 'url: must be a valid http:// or https:// URL'],
    ['redis url with http scheme', { name: 'a', kind: 'redis', url: 'http://h:6379' }, 'url: must be a valid redis:// or rediss:// URL'],
    ['postgres url with mysql scheme', { name: 'a', kind: 'postgres', url: 'mysql://h/db' }, 'url: must be a valid postgres:// or postgresql:// URL'],
    ['unknown key', { name: 'a', kind: 'tcp', host: 'h', port: 1, prot: 2 }, ': unknown key "prot" (allowed: name, kind, host, port, timeout)'],
    ['unknown key under expect', { name: 'a', kind: 'http', url: 'http://h', expect: { statuss: 200 } }, 'expect: unknown key "statuss" (allowed: status, json)'],
    ['bad duration', { name: 'a', kind: 'tcp', host: 'h', port: 1, timeout: '5 seconds' }, 'timeout: "5 seconds" is not a duration; write it like "500ms", "5s", "15m", "4h" or "1d"'],
    ['timeout over 60s', { name: 'a', kind: 'tcp', host: 'h', port: 1, timeout: '2m' }, 'timeout: must be at most 60s'],
    ['zero timeout', { name: 'a', kind: 'tcp', host: 'h', port: 1, timeout: '0s' }, 'timeout: must be longer than 0'],
    ['port 0', { name: 'a', kind: 'tcp', host: 'h', port: 0 }, 'port: must be a port between 1 and 65535'],
    ['port 65536', { name: 'a', kind: 'tls', host: 'h', port: 65_536 }, 'port: must be a port between 1 and 65535'],
    ['bad name', { name: 'API', kind: 'tcp', host: 'h', port: 1 }, 'name: use lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'],
    ['unknown kind', { name: 'a', kind: 'ping', host: 'h' }, 'kind: kind must be one of: http, tcp, redis, postgres, tls'],
    ['bad method', { name: 'a', kind: 'http', url: 'http://h', method: 'POST' }, 'method: Invalid option: expected one of "GET"|"HEAD"'],
    ['json with HEAD', { name: 'a', kind: 'http', url: 'http://h', method: 'HEAD', expect: { json: { s: 'x' } } }, 'method: expect.json needs a response body; use method GET'],
    ['empty json path segment', { name: 'a', kind: 'http', url: 'http://h', expect: { json: { 'a..b': 'x' } } }, 'expect.json.a..b: "a..b" is not a dotted path such as "status" or "dependencies.*"'],
    ['json value that is an object', { name: 'a', kind: 'http', url: 'http://h', expect: { json: { a: { b: 1 } } } }, 'expect.json.a: Invalid input'],
    ['warn percent over 100', { name: 'a', kind: 'postgres', url: 'postgres://h/db', warnConnectionsPercent: 120 }, 'warnConnectionsPercent: Too big: expected number to be <=100'],
  ])('rejects %s', (_, input, problem) => {
    expect(problems(input)).toContain(problem);
  });

  it('never echoes a URL (it may hold a password) in its messages', () => {
    const messages = problems({ name: 'a', kind: 'redis', url: 'http://u:hunter2@h:6379' }).join('\n');
    expect(messages).not.toContain('hunter2');
  });

  it('reports all problems of a check together', () => {
    expect(problems({ name: 'A', kind: 'tcp', host: '', port: 0, timeout: 'x' })).toHaveLength(4);
  });
});

describe('HealthCheckList', () => {
  it('rejects duplicate names within a service', () => {
    const parsed = HealthCheckList.safeParse([
      { name: 'api', kind: 'tcp', host: 'h', port: 1 },
      { name: 'api', kind: 'tcp', host: 'h', port: 2 },
    ]);
    expect(parsed.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([[[1, 'name'], 'duplicate health check name "api"']]);
  });
});
