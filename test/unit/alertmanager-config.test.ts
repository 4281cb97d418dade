import { describe, expect, it } from 'vitest';
import { AlertmanagerConfig } from '../../src/integrations/alertmanager/index.js';

describe('alertmanager config', () => {
  it('takes one url or the urls of an HA pair, and reconciles every minute by default', () => {
    expect(AlertmanagerConfig.parse({ url: 'http://127.0.0.1:9093' })).toMatchObject({
      url: 'http://127.0.0.1:9093',
      urls: ['http://127.0.0.1:9093'],
      reconcile: { interval: 60_000, goneAfter: 120_000 },
    });
    expect(AlertmanagerConfig.parse({ urls: ['http://127.0.0.1:9093', 'http://127.0.0.1:9094'], reconcile: { interval: '30s', goneAfter: '0s' } })).toMatchObject({
      url: 'http://127.0.0.1:9093',
      urls: ['http://127.0.0.1:9093', 'http://127.0.0.1:9094'],
      reconcile: { interval: 30_000, goneAfter: 0 },
    });
  });

  it('names what is wrong', () => {
    const problems = (input: unknown) => AlertmanagerConfig.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({})).toEqual(['url: give url (one Alertmanager) or urls (an HA pair)']);
    expect(problems({ urls: ['http://user:pw@127.0.0.1:9093'] })).toEqual(['urls.0: put credentials in headers (Authorization), not in the URL']);
    expect(problems({ url: 'http://127.0.0.1:9093', reconcile: { interval: '100ms' } })).toEqual(['reconcile.interval: must be at least 1s']);
    expect(problems({ url: 'http://127.0.0.1:9093', reconcile: { every: '1m' } })?.[0]).toContain('every');
  });
});
