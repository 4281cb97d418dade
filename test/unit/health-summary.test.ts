import { describe, expect, it } from 'vitest';
import { formatCheckLine } from '../../src/integrations/health/format-check-line.js';
import { summarize } from '../../src/integrations/health/summarize.js';
import type { CheckResult, CheckStatus } from '../../src/integrations/health/types.js';

describe('summarize', () => {
  it.each<[CheckStatus[], CheckStatus]>([
    [[], 'ok'],
    [['ok', 'ok'], 'ok'],
    [['ok', 'warn', 'ok'], 'warn'],
    [['warn', 'fail', 'ok'], 'fail'],
    [['fail', 'warn'], 'fail'],
  ])('%j → %s', (statuses, worst) => {
    expect(summarize(statuses.map((status) => ({ status })))).toBe(worst);
  });
});

describe('formatCheckLine', () => {
  it.each<[CheckResult, string]>([
    [{ name: 'api', kind: 'http', status: 'ok', latencyMs: 12, detail: 'HTTP 200' }, '✓ api — 12ms — HTTP 200'],
    [
      { name: 'db', kind: 'postgres', status: 'warn', latencyMs: 30, detail: '85/100 connections', reason: '85% of connections in use (warn at 80%)' },
      '⚠ db — 30ms — 85/100 connections',
    ],
    [{ name: 'cache', kind: 'redis', status: 'fail', latencyMs: 5_004, reason: 'timed out after 5s' }, '✗ cache — 5.0s — timed out after 5s'],
    [{ name: 'api', kind: 'http', status: 'fail', latencyMs: 8, detail: 'HTTP 503', reason: 'HTTP 503 (expected 200)' }, '✗ api — 8ms — HTTP 503 (expected 200)'],
    [{ name: 'port', kind: 'tcp', status: 'ok', latencyMs: 1 }, '✓ port — 1ms'],
    [{ name: 'x', kind: 'tcp', status: 'fail', latencyMs: 1, reason: 'bad <@U123> & co' }, '✗ x — 1ms — bad &lt;@U123&gt; &amp; co'],
  ])('%j', (result, line) => {
    expect(formatCheckLine(result)).toBe(line);
  });
});
