import { describe, expect, it } from 'vitest';
import { parseCatalog, CatalogError } from '../../src/config/load-catalog.js';
import { parseEnv, slackMode, EnvError } from '../../src/config/env.js';
import { parseDuration, formatDuration } from '../../src/config/duration.js';

function catalogProblems(text: string, env: Record<string, string> = {}) {
  try {
    parseCatalog(text, 'c.yml', env);
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  return [];
}

describe('catalog', () => {
  it('interpolates ${VAR} and ${VAR:-default} and freezes the result', () => {
    const catalog = parseCatalog(
      'version: 1\nservices:\n  a:\n    name: A\n    health:\n      - { name: r, kind: redis, url: "${R:-redis://127.0.0.1:6379}" }\n      - { name: h, kind: http, url: "http://${HOST}/health" }\n',
      'c.yml',
      { HOST: '127.0.0.1:9' },
    );
    const checks = catalog.services.a!.health;
    expect(checks.map((c) => ('url' in c ? c.url : ''))).toEqual(['redis://127.0.0.1:6379', 'http://127.0.0.1:9/health']);
    expect(Object.isFrozen(catalog.services.a)).toBe(true);
  });

  it('reports every problem at once with its path and line', () => {
    const problems = catalogProblems(
      'version: 1\nservices:\n  Bad_Id:\n    name: x\n  ok:\n    name: y\n    helth: []\n    health:\n      - { name: a, kind: http, url: nope }\n      - { name: a, kind: http, url: "http://x", timeout: 99h }\n      - { name: s, kind: redis, url: "${SECRET_URL}" }\n',
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath)).toEqual(
      expect.arrayContaining(['services.Bad_Id', 'services.ok.helth', 'services.ok.health[0].url', 'services.ok.health[1].name', 'services.ok.health[1].timeout', 'services.ok.health[2].url']),
    );
    expect(byPath['services.ok.helth']!.location).toBe('c.yml:7:5');
    expect(byPath['services.ok.health[2].url']!.message).toContain('export SECRET_URL');
    expect(byPath['services.ok.health[1].timeout']!.message).toContain('at most 60s');
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = catalogProblems('version: 1\nservices:\n  a: [unclosed\n');
    expect(problems[0]!.path).toBe('(YAML syntax)');
    expect(problems[0]!.location).toMatch(/^c\.yml:\d+:\d+$/);
  });

  it('requires at least one service and the right version', () => {
    const paths = catalogProblems('version: 3\nservices: {}\n').map((p) => p.path);
    expect(paths).toEqual(['version', 'services']);
  });
});

describe('environment', () => {
  it('starts offline with no variables at all', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.SWITCHBOARD_CONFIG).toBe('./switchboard.yml');
    expect(slackMode(env)).toEqual({ kind: 'offline' });
  });

  it('picks HTTP mode or Socket Mode from the tokens', () => {
    expect(slackMode(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).kind).toBe('http');
    expect(slackMode(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).kind).toBe('socket');
  });

  it.each(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL'])('refuses %s set to a blank string, naming it', (name) => {
    expect(() => parseEnv({ [name]: ' ' })).toThrow(new RegExp(`${name}: is set but empty`));
    expect(() => parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', [name]: '' })).toThrow(new RegExp(`${name}: is set but empty`));
  });

  it('starts no sandbox when only SLACK_API_URL is set', () => {
    expect(() => parseEnv({ SLACK_API_URL: 'http://127.0.0.1:1/api/' })).toThrow(/SLACK_BOT_TOKEN: is required once SLACK_API_URL is set/);
  });

  it('lists every bad variable with a hint', () => {
    let problems: string[] = [];
    try {
      parseEnv({ SLACK_BOT_TOKEN: 'xoxp-user', PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      problems = (error as EnvError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SLACK_BOT_TOKEN: .*xoxb-/),
        expect.stringMatching(/^SLACK_SIGNING_SECRET: .*required/),
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^LOG_LEVEL: /),
        expect.stringMatching(/^DATABASE_URL: .*postgres/),
      ]),
    );
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5_000],
    ['1.5m', 90_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['5', undefined],
    ['5 s', undefined],
    ['-5s', undefined],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('formats for people', () => {
    expect([850, 4_200, 900_000, 5_400_000, 90_000_000].map(formatDuration)).toEqual(['850ms', '4.2s', '15m', '1h 30m', '1d 1h']);
  });
});

describe('optional values', () => {
  it('drops a key whose whole value is ${VAR:-} with VAR unset, and keeps it when set', () => {
    const yaml = 'version: 1\nservices:\n  a:\n    name: A\n    restart: { kind: supervisor, url: "http://127.0.0.1:9001/RPC2", username: "${SV_USER:-}", password: "${SV_PASS:-}", programs: [a] }\n';
    const unset = parseCatalog(yaml, 'c.yml', {}).services.a!.restart as { username?: string };
    expect(unset.username).toBeUndefined();
    const set = parseCatalog(yaml, 'c.yml', { SV_USER: 'ops', SV_PASS: 'pw' }).services.a!.restart as { username?: string };
    expect(set.username).toBe('ops');
  });
});
