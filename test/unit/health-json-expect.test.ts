import { describe, expect, it } from 'vitest';
import { checkJsonExpect } from '../../src/integrations/health/json-expect.js';

const healthy = {
  status: 'healthy',
  version: 3,
  ready: true,
  dependencies: { database: 'healthy', redis: 'healthy' },
  replicas: [{ state: 'up' }, { state: 'up' }],
  nested: { a: { b: { c: 'deep' } } },
  empty: {},
  none: [],
  nothing: null,
};

describe('checkJsonExpect', () => {
  it.each([
    ['top-level string', { status: 'healthy' }],
    ['number and boolean', { version: 3, ready: true }],
    ['nested path', { 'nested.a.b.c': 'deep' }],
    ['wildcard over an object', { 'dependencies.*': 'healthy' }],
    ['wildcard over an array, then a key', { 'replicas.*.state': 'up' }],
    ['array index', { 'replicas.1.state': 'up' }],
    ['no expectations', {}],
  ])('passes: %s', (_, expectations) => {
    expect(checkJsonExpect(healthy, expectations)).toEqual([]);
  });

  it.each([
    ['different value', { status: 'ok' }, 'status is "healthy", expected "ok"'],
    ['wrong type (number vs string)', { version: '3' }, 'version is 3, expected "3"'],
    ['wrong type (boolean vs string)', { ready: 'true' }, 'ready is true, expected "true"'],
    ['object where a value is expected', { dependencies: 'healthy' }, 'dependencies is an object, expected "healthy"'],
    ['missing top-level key', { uptime: 1 }, 'uptime is missing, expected 1'],
    ['missing nested key', { 'dependencies.kafka': 'healthy' }, 'dependencies.kafka is missing, expected "healthy"'],
    ['missing parent', { 'checks.db': 'ok' }, 'checks.db is missing, expected "ok"'],
    ['path through a leaf', { 'status.code': 200 }, 'status is "healthy", expected an object or array'],
    ['path through null', { 'nothing.x': 1 }, 'nothing is null, expected an object or array'],
    ['wildcard over an empty object', { 'empty.*': 'healthy' }, 'empty is empty, expected at least one entry'],
    ['wildcard over an empty array', { 'none.*': 'up' }, 'none is empty, expected at least one entry'],
    ['wildcard over a leaf', { 'status.*': 'x' }, 'status is "healthy", expected an object or array'],
  ])('fails: %s', (_, expectations, problem) => {
    expect(checkJsonExpect(healthy, expectations)).toEqual([problem]);
  });

  it('names every child that differs under a wildcard', () => {
    const body = { dependencies: { database: 'healthy', redis: 'unhealthy', queue: 'degraded' } };
    expect(checkJsonExpect(body, { 'dependencies.*': 'healthy' })).toEqual([
      'dependencies.redis is "unhealthy", expected "healthy"',
      'dependencies.queue is "degraded", expected "healthy"',
    ]);
  });

  it('works on a body that is not an object', () => {
    expect(checkJsonExpect('healthy', { status: 'healthy' })).toEqual(['body is "healthy", expected an object or array']);
  });

  it('shortens long values', () => {
    const [problem] = checkJsonExpect({ status: 'x'.repeat(500) }, { status: 'ok' });
    expect(problem!.length).toBeLessThan(100);
  });
});
