import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRestarter, RestartConfig } from '../../src/integrations/restart/index.js';
import { startFakeDocker, type FakeContainer, type FakeDocker } from '../fakes/fake-docker.js';

const restarter = createRestarter();
const signal = () => AbortSignal.timeout(30_000);

const GATEWAY_ID = 'a1b2c3d4e5f6'.repeat(5).slice(0, 64);
const PROXY_1_ID = 'f00dfeed0001'.repeat(6).slice(0, 64);
const PROXY_2_ID = 'f00dfeed0002'.repeat(6).slice(0, 64);
const OTHER_ID = 'beefcafe0003'.repeat(6).slice(0, 64);

const containers = (): FakeContainer[] => [
  { Id: GATEWAY_ID, Names: ['/gateway-proxy'], Labels: {}, State: 'running' },
  {
    Id: PROXY_1_ID,
    Names: ['/api-gateway-proxy-service-1'],
    Labels: { 'com.docker.compose.project': 'api-gateway', 'com.docker.compose.service': 'proxy-service' },
    State: 'running',
  },
  {
    Id: PROXY_2_ID,
    Names: ['/api-gateway-proxy-service-2'],
    Labels: { 'com.docker.compose.project': 'api-gateway', 'com.docker.compose.service': 'proxy-service' },
    State: 'exited',
  },
  {
    Id: OTHER_ID,
    Names: ['/api-gateway-redis-1'],
    Labels: { 'com.docker.compose.project': 'api-gateway', 'com.docker.compose.service': 'redis' },
    State: 'running',
  },
];

async function failure(pending: Promise<unknown>): Promise<Error & { options?: { hint?: string } }> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restart to fail');
}

let dir: string;
let tcp: FakeDocker;
let unix: FakeDocker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-docker-'));
  tcp = await startFakeDocker({ containers: containers() });
  unix = await startFakeDocker({ containers: containers(), socketPath: join(dir, 'docker.sock') });
});

afterEach(() => {
  for (const fake of [tcp, unix]) {
    fake.requests.length = 0;
    fake.failRestart.clear();
    fake.restartDelayMs = 0;
  }
});

afterAll(async () => {
  await Promise.all([tcp?.close(), unix?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('docker restart', () => {
  it('restarts a container by name over a unix socket', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: unix.host, containers: ['gateway-proxy'] });
    const outcome = await restarter.restart(config, { signal: signal() });
    expect(outcome).toEqual({ detail: 'docker restarted gateway-proxy', targets: ['gateway-proxy'] });
    expect(unix.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/containers/gateway-proxy/restart', query: { t: '10' }, body: '' }),
    ]);
    expect(unix.requests[0]?.headers.host).toBe('localhost');
    expect(unix.containers.find((c) => c.Id === GATEWAY_ID)?.restarts).toBe(1);
  });

  it('restarts by name over tcp://, keeping the stop grace inside a short timeout', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host.replace('http:', 'tcp:'), containers: ['gateway-proxy'], timeout: '4s' });
    await restarter.restart(config, { signal: signal() });
    expect(tcp.requests.map((r) => [r.method, r.path, r.query])).toEqual([['POST', '/containers/gateway-proxy/restart', { t: '2' }]]);
  });

  it('restarts every container of a compose service, found by its labels', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host, compose: { project: 'api-gateway', service: 'proxy-service' } });
    const outcome = await restarter.restart(config, { signal: signal() });
    const [list, ...restarts] = tcp.requests;
    expect(list).toMatchObject({ method: 'GET', path: '/containers/json' });
    expect(Object.keys(list?.query ?? {}).sort()).toEqual(['all', 'filters']);
    expect(list?.query.all).toBe('1');
    expect(JSON.parse(list?.query.filters ?? '')).toEqual({
      label: ['com.docker.compose.project=api-gateway', 'com.docker.compose.service=proxy-service'],
    });
    expect(restarts.map((r) => [r.method, r.path, r.query])).toEqual([
      ['POST', `/containers/${PROXY_1_ID}/restart`, { t: '10' }],
      ['POST', `/containers/${PROXY_2_ID}/restart`, { t: '10' }],
    ]);
    expect(outcome).toEqual({
      detail: 'docker restarted 2 containers of api-gateway/proxy-service: api-gateway-proxy-service-1, api-gateway-proxy-service-2',
      targets: ['api-gateway-proxy-service-1', 'api-gateway-proxy-service-2'],
    });
  });

  it('names the labels when no compose container matches', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host, compose: { project: 'api-gateway', service: 'nope' } });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(
      `Docker at ${tcp.host} has no container labelled com.docker.compose.project=api-gateway and com.docker.compose.service=nope`,
    );
    expect(error.options?.hint).toContain('docker compose -p api-gateway ps nope');
    expect(tcp.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('says which container name does not exist, and what it already restarted', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host, containers: ['gateway-proxy', 'gateway-prxy'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(`Docker at ${tcp.host} has no container named gateway-prxy (already restarted: gateway-proxy)`);
  });

  it("passes Docker's own message on a server error", async () => {
    tcp.failRestart.set('gateway-proxy', 'Cannot restart container gateway-proxy: driver failed programming external connectivity');
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host, containers: ['gateway-proxy'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(
      `Docker at ${tcp.host} could not restart gateway-proxy: Cannot restart container gateway-proxy: driver failed programming external connectivity (HTTP 500)`,
    );
  });

  it('times out a restart that takes longer than the timeout', async () => {
    tcp.restartDelayMs = 5_000;
    const config = RestartConfig.parse({ kind: 'docker', host: tcp.host, containers: ['gateway-proxy'], timeout: '500ms' });
    const started = Date.now();
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toBe(`Docker at ${tcp.host} timed out after 500ms while trying to restart gateway-proxy`);
  });

  it('explains a missing Docker socket', async () => {
    const config = RestartConfig.parse({ kind: 'docker', host: `unix://${dir}/missing.sock`, containers: ['gateway-proxy'] });
    const error = await failure(restarter.restart(config, { signal: signal() }));
    expect(error.message).toBe(`Docker at unix://${dir}/missing.sock has no socket file at that path`);
    expect(error.options?.hint).toMatch(/Is Docker running/);
  });
});
