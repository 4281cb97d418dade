import { describe, expect, it } from 'vitest';
import { RestartConfig } from '../../src/integrations/restart/schema.js';
import { parseWorkload } from '../../src/integrations/kubernetes/workload.js';

function problems(input: unknown): string[] {
  const parsed = RestartConfig.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('RestartConfig', () => {
  it('parses the catalog examples of every kind with their defaults', () => {
    expect(RestartConfig.parse({ kind: 'supervisor', url: 'http://127.0.0.1:9001/RPC2', programs: ['company-api', 'company-worker'] })).toEqual({
      kind: 'supervisor', url: 'http://127.0.0.1:9001/RPC2', programs: ['company-api', 'company-worker'], timeout: 60_000,
    });
    expect(RestartConfig.parse({ kind: 'supervisor', url: 'unix:///var/run/supervisor.sock', username: 'ops', password: 'pw', programs: ['grp:api'] }))
      .toMatchObject({ username: 'ops', password: 'pw' });
    expect(RestartConfig.parse({ kind: 'docker', containers: ['gateway-proxy'] })).toEqual({
      kind: 'docker', host: 'unix:///var/run/docker.sock', containers: ['gateway-proxy'], timeout: 60_000,
    });
    expect(RestartConfig.parse({ kind: 'docker', host: 'tcp://127.0.0.1:2375', compose: { project: 'api-gateway', service: 'proxy-service' } }))
      .toMatchObject({ compose: { project: 'api-gateway', service: 'proxy-service' } });
    expect(RestartConfig.parse({ kind: 'kubernetes', namespace: 'default', resource: 'deploy/brownie-api', kubeconfig: '~/.kube/config', context: 'prod' })).toEqual({
      kind: 'kubernetes', namespace: 'default', resource: 'deployment/brownie-api', kubeconfig: '~/.kube/config', context: 'prod', timeout: 60_000,
    });
    expect(RestartConfig.parse({ kind: 'command', argv: ['systemctl', 'restart', 'dried-fruits'], cwd: '/opt/app', env: { KEY: 'value' } })).toEqual({
      kind: 'command', argv: ['systemctl', 'restart', 'dried-fruits'], cwd: '/opt/app', env: { KEY: 'value' }, timeout: 120_000,
    });
    expect(RestartConfig.parse({
      kind: 'webhook', url: 'https://ci.example.com/hooks/restart', headers: { Authorization: 'Bearer t' }, body: { service: 'selextract' },
      expectStatus: [200, 201, 202, 204],
    })).toEqual({
      kind: 'webhook', url: 'https://ci.example.com/hooks/restart', method: 'POST', headers: { Authorization: 'Bearer t' },
      body: { service: 'selextract' }, expectStatus: [200, 201, 202, 204], timeout: 30_000,
    });
  });

  it('parses verify on every kind, with defaults', () => {
    expect(RestartConfig.parse({ kind: 'command', argv: ['true'], verify: {} })).toMatchObject({ verify: { timeout: 60_000, interval: 2_000 } });
    expect(RestartConfig.parse({ kind: 'docker', containers: ['x'], verify: { timeout: '90s', interval: '3s' } })).toMatchObject({
      verify: { timeout: 90_000, interval: 3_000 },
    });
    expect(problems({ kind: 'command', argv: ['true'], verify: { timeout: '1s', interval: '5s' } })).toEqual([
      'verify.interval: interval must not be longer than timeout',
    ]);
  });

  it.each([
    ['an unknown kind', { kind: 'systemd', unit: 'x' }, 'kind: kind must be one of: supervisor, docker, kubernetes, command, webhook'],
    ['a typo in a key', { kind: 'supervisor', url: 'http://h:9001/RPC2', progams: ['a'] }, 'programs: Invalid input: expected array, received undefined'],
    ['a supervisor wildcard', { kind: 'supervisor', url: 'http://h:9001/RPC2', programs: ['grp:*'] }, 'programs.0: must be a supervisord program name such as "company-api" or "group:name"'],
    ['a supervisor program starting with -', { kind: 'supervisor', url: 'http://h:9001/RPC2', programs: ['-x'] }, 'programs.0: must be a supervisord program name such as "company-api" or "group:name"'],
    ['a unix URL without a path', { kind: 'supervisor', url: 'unix://', programs: ['a'] }, 'url: a unix URL needs an absolute socket path, such as unix:///var/run/supervisor.sock'],
    ['a username without password', { kind: 'supervisor', url: 'http://h:9001/RPC2', username: 'ops', programs: ['a'] }, 'password: give both username and password, or neither'],
    ['credentials in the URL', { kind: 'supervisor', url: 'http://ops:pw@h:9001/RPC2', programs: ['a'] }, 'url: put credentials in username/password, not in the URL'],
    ['docker with both selectors', { kind: 'docker', containers: ['a'], compose: { project: 'p', service: 's' } }, 'containers: give either containers (names) or compose (project and service), not both and not neither'],
    ['docker with neither selector', { kind: 'docker' }, 'containers: give either containers (names) or compose (project and service), not both and not neither'],
    ['docker over https', { kind: 'docker', host: 'https://h:2376', containers: ['a'] }, 'host: must be a valid unix://, tcp:// or http:// URL'],
    ['a bad container name', { kind: 'docker', containers: ['a b'] }, 'containers.0: must be a Docker container name such as "gateway-proxy"'],
    ['a pod as resource', { kind: 'kubernetes', namespace: 'default', resource: 'pod/x' }, 'resource: must be deployment/<name>, statefulset/<name> or daemonset/<name>'],
    ['a bad namespace', { kind: 'kubernetes', namespace: 'Prod', resource: 'deployment/x' }, 'namespace: must be a Kubernetes namespace name (lowercase letters, digits and "-")'],
    ['a context without kubeconfig', { kind: 'kubernetes', namespace: 'default', resource: 'deployment/x', context: 'c' }, 'context: context needs a kubeconfig; without one the in-cluster service account is used'],
    ['an empty argv', { kind: 'command', argv: [] }, 'argv: give at least the program, e.g. [systemctl, restart, my-service]'],
    ['an empty program', { kind: 'command', argv: [' ', 'restart'] }, 'argv.0: the program (first element) must not be empty'],
    ['a relative cwd', { kind: 'command', argv: ['x'], cwd: 'opt' }, 'cwd: must be an absolute path'],
    ['a webhook with another scheme', { kind: 'webhook', url: 'ftp://h/x' }, 'url: must be a valid http:// or https:// URL'],
    ['a GET webhook with a body', { kind: 'webhook', url: 'http://h/x', method: 'GET', body: { a: 1 } }, 'body: a GET request carries no body; use POST'],
    ['a malformed timeout', { kind: 'command', argv: ['x'], timeout: '2 minutes' }, 'timeout: "2 minutes" is not a duration; write it like "500ms", "5s", "15m", "4h" or "1d"'],
    ['a timeout too long', { kind: 'command', argv: ['x'], timeout: '2h' }, 'timeout: must be at most 30m'],
  ])('rejects %s', (_, input, message) => {
    expect(problems(input)).toContain(message);
  });

  it('names the allowed keys for an unknown one', () => {
    expect(problems({ kind: 'command', argv: ['x'], shell: true })).toEqual([': unknown key "shell" (allowed: kind, argv, cwd, env, timeout, verify)']);
  });

  it('never echoes a URL that may hold a password', () => {
    expect(problems({ kind: 'webhook', url: 'not a url with secret-value' }).join()).not.toContain('secret-value');
  });
});

describe('parseWorkload', () => {
  it.each([
    ['deployment/brownie-api', { kind: 'deployment', name: 'brownie-api' }],
    ['deployments/brownie-api', { kind: 'deployment', name: 'brownie-api' }],
    ['StatefulSet/db-0', { kind: 'statefulset', name: 'db-0' }],
    ['ds/log.shipper', { kind: 'daemonset', name: 'log.shipper' }],
    ['deployment/', undefined],
    ['deployment/Brownie', undefined],
    ['deployment/a/b', undefined],
    ['brownie-api', undefined],
    ['job/x', undefined],
  ])('%s', (text, expected) => {
    expect(parseWorkload(text)).toEqual(expected);
  });
});
