import { describe, expect, it } from 'vitest';
import { AlertmanagerConfig, formatMatchers, matchersFromLabels } from '../../src/integrations/alertmanager/index.js';
import { IntegrationError } from '../../src/integrations/integration-error.js';

// Pure code of the Alertmanager integration; kept beside its integration test because the
// files of this integration are named alertmanager-api*.
describe('matchersFromLabels', () => {
  it('makes sorted equality matchers from group labels', () => {
    expect(matchersFromLabels({ service: 'api-gateway', alertname: 'ServiceDown' })).toEqual([
      { name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true },
      { name: 'service', value: 'api-gateway', isRegex: false, isEqual: true },
    ]);
  });

  it.each([
    ['no labels, which would silence everything', {}, /every alert/],
    ['a label name Alertmanager rejects', { 'bad-name': 'x' }, /"bad-name" is not a label name/],
    ['a label name starting with a digit', { '1st': 'x' }, /not a label name/],
    ['an empty value', { alertname: 'X', service: '' }, /service has an empty value/],
    ['a huge value', { alertname: 'x'.repeat(2_000) }, /at most 1024/],
  ])('refuses %s', (_, labels, message) => {
    expect(() => matchersFromLabels(labels)).toThrow(IntegrationError);
    expect(() => matchersFromLabels(labels)).toThrow(message);
  });
});

describe('formatMatchers', () => {
  it.each([
    [[{ name: 'alertname', value: 'X', isRegex: false }, { name: 'service', value: 'y', isRegex: false, isEqual: true }], 'alertname="X", service="y"'],
    [[{ name: 'env', value: 'prod|staging', isRegex: true }], 'env=~"prod|staging"'],
    [[{ name: 'env', value: 'dev', isRegex: false, isEqual: false }], 'env!="dev"'],
    [[{ name: 'env', value: 'dev.*', isRegex: true, isEqual: false }], 'env!~"dev.*"'],
    [[{ name: 'path', value: 'C:\\temp "x"\nnext', isRegex: false }], 'path="C:\\\\temp \\"x\\"\\nnext"'],
    [[], ''],
  ])('%j → %s', (matchers, text) => {
    expect(formatMatchers(matchers)).toBe(text);
  });
});

describe('AlertmanagerConfig', () => {
  it('takes a URL, headers with a token, and defaults the timeout to 10s', () => {
    expect(AlertmanagerConfig.parse({ url: 'http://127.0.0.1:9093', headers: { Authorization: 'Bearer abc' } })).toEqual({
      url: 'http://127.0.0.1:9093',
      urls: ['http://127.0.0.1:9093'],
      headers: { Authorization: 'Bearer abc' },
      timeout: 10_000,
      reconcile: { interval: 60_000, goneAfter: 120_000 },
    });
    expect(AlertmanagerConfig.parse({ url: 'https://am.example.com/alertmanager', timeout: '3s' }).timeout).toBe(3_000);
  });

  it.each([
    [{ url: 'ftp://am:9093' }, 'url', 'http:// or https://'],
    [{ url: 'not a url' }, 'url', 'http:// or https://'],
    [{ url: 'http://user:pw@am:9093' }, 'url', 'not in the URL'],
    [{ url: 'http://am:9093/?token=x' }, 'url', 'query string'],
    [{ url: 'http://am:9093', headers: { 'Bad Header': 'x' } }, 'headers', 'header name'],
    [{ url: 'http://am:9093', timeout: 'soon' }, 'timeout', 'not a duration'],
    [{ url: 'http://am:9093', timeout: '1h' }, 'timeout', 'at most 5m'],
    [{ url: 'http://am:9093', tiemout: '1s' }, '', 'unknown key "tiemout" (allowed: url, urls, headers, timeout, reconcile)'],
  ])('rejects %j', (input, path, message) => {
    const result = AlertmanagerConfig.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(String(issue?.path[0] ?? '')).toBe(path);
    expect(issue?.message).toContain(message);
    // A password in the URL must not come back in the message.
    expect(JSON.stringify(result.error?.issues)).not.toContain('pw@');
  });
});
