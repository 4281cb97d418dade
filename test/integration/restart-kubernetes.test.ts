import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createRestarter, RestartConfig } from '../../src/integrations/restart/index.js';
import { startFakeKubernetes, workload, type FakeKubernetes } from '../fakes/fake-kubernetes.js';
import { requires } from '../helpers/requires.js';

const run = promisify(execFile);
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.fake-service-account-token';
const NOW = Date.parse('2025-03-14T09:26:53.589Z');
const RESTARTED_AT = '2025-03-14T09:26:53Z';
const restarter = createRestarter({ now: () => NOW });
const signal = () => AbortSignal.timeout(30_000);

const objects = () => [
  workload('deployments', 'default', 'brownie-api'),
  workload('statefulsets', 'data', 'brownie-db'),
  workload('daemonsets', 'kube-system', 'log-shipper'),
  workload('deployments', 'default', 'paused-api', { paused: true }),
];

let dir: string;
let plain: FakeKubernetes;
let secure: FakeKubernetes;
let caPem: Buffer;

async function failure(pending: Promise<unknown>): Promise<Error & { options?: { hint?: string } }> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restart to fail');
}

/** Writes a kubeconfig with one or more contexts and returns its path. */
async function kubeconfig(name: string, doc: Record<string, unknown>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, stringify({ apiVersion: 'v1', kind: 'Config', preferences: {}, ...doc }));
  return file;
}

function singleContext(server: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return {
    'current-context': 'ops',
    clusters: [{ name: 'fake', cluster: { server, ...cluster } }],
    contexts: [{ name: 'ops', context: { cluster: 'fake', user: 'switchboard', namespace: 'default' } }],
    users: [{ name: 'switchboard', user }],
  };
}

const k8s = (extra: Record<string, unknown>) => RestartConfig.parse({ kind: 'kubernetes', namespace: 'default', resource: 'deployment/brownie-api', ...extra });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-k8s-'));
  // A self-signed server certificate for 127.0.0.1, as a cluster CA would issue.
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
    '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  caPem = await readFile(join(dir, 'cert.pem'));
  plain = await startFakeKubernetes({ objects: objects(), token: TOKEN });
  secure = await startFakeKubernetes({ objects: objects(), token: TOKEN, tls: { key: await readFile(join(dir, 'key.pem')), cert: caPem } });
});

afterEach(() => {
  for (const fake of [plain, secure]) {
    fake.requests.length = 0;
    fake.allowed = new Set(['get', 'patch']);
  }
});

afterAll(async () => {
  await Promise.all([plain?.close(), secure?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

requires('openssl')('kubernetes restart', () => {
  it('patches a deployment exactly as kubectl rollout restart does', async () => {
    const file = await kubeconfig('token.yaml', singleContext(plain.server, { token: TOKEN }));
    const outcome = await restarter.restart(k8s({ kubeconfig: file }), { signal: signal() });

    expect(outcome).toEqual({
      detail: `kubernetes rolling restart of deployment/brownie-api in default started (restartedAt ${RESTARTED_AT})`,
      targets: ['deployment/brownie-api'],
    });
    const [get, patch] = plain.requests;
    expect(plain.requests).toHaveLength(2);
    expect(get).toMatchObject({ method: 'GET', path: '/apis/apps/v1/namespaces/default/deployments/brownie-api', query: {}, body: '' });
    expect(patch).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/default/deployments/brownie-api',
      query: { fieldManager: 'switchboard' },
    });
    expect(patch?.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patch?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(patch?.body ?? '')).toEqual({
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } },
    });
    const stored = plain.objects.get('default/deployments/brownie-api') as { spec: { template: { metadata: Record<string, unknown> } } };
    expect(stored.spec.template.metadata).toEqual({ labels: { app: 'brownie-api' }, annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } });
  });

  it.each([
    ['statefulset/brownie-db', 'data', '/apis/apps/v1/namespaces/data/statefulsets/brownie-db', 'statefulset/brownie-db'],
    ['sts/brownie-db', 'data', '/apis/apps/v1/namespaces/data/statefulsets/brownie-db', 'statefulset/brownie-db'],
    ['daemonset/log-shipper', 'kube-system', '/apis/apps/v1/namespaces/kube-system/daemonsets/log-shipper', 'daemonset/log-shipper'],
  ])('patches %s with the same body and content type', async (resource, namespace, path, target) => {
    const file = await kubeconfig('token.yaml', singleContext(plain.server, { token: TOKEN }));
    const outcome = await restarter.restart(k8s({ kubeconfig: file, namespace, resource }), { signal: signal() });
    expect(outcome.targets).toEqual([target]);
    const patch = plain.requests.find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(path);
    expect(patch?.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(JSON.parse(patch?.body ?? '')).toEqual({
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } },
    });
  });

  it('names the account and the missing verb on 403', async () => {
    plain.allowed = new Set(['get']);
    const file = await kubeconfig('token.yaml', singleContext(plain.server, { token: TOKEN }));
    const error = await failure(restarter.restart(k8s({ kubeconfig: file }), { signal: signal() }));
    expect(error.message).toBe(
      'Kubernetes refused to restart deployment/brownie-api: system:serviceaccount:ops:switchboard lacks patch on deployments in namespace default',
    );
    expect(error.options?.hint).toContain('verbs ["get", "patch"]');
  });

  it('says the credentials were rejected on 401, without the token', async () => {
    const file = await kubeconfig('bad-token.yaml', singleContext(plain.server, { token: 'expired-token-value' }));
    const error = await failure(restarter.restart(k8s({ kubeconfig: file }), { signal: signal() }));
    expect(error.message).toBe(`Kubernetes API at ${plain.server} rejected the credentials of kubeconfig user "switchboard" (401 Unauthorized)`);
    expect(JSON.stringify([error.message, error.options])).not.toContain('expired-token-value');
  });

  it('says which workload does not exist', async () => {
    const file = await kubeconfig('token.yaml', singleContext(plain.server, { token: TOKEN }));
    const error = await failure(restarter.restart(k8s({ kubeconfig: file, resource: 'deployment/brownie-apii' }), { signal: signal() }));
    expect(error.message).toBe('Kubernetes has no deployment named brownie-apii in namespace default');
    expect(plain.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('refuses a paused deployment, as kubectl does, without patching it', async () => {
    const file = await kubeconfig('token.yaml', singleContext(plain.server, { token: TOKEN }));
    const error = await failure(restarter.restart(k8s({ kubeconfig: file, resource: 'deployment/paused-api' }), { signal: signal() }));
    expect(error.message).toBe('deployment/paused-api in namespace default is paused, so a restart would not roll out');
    expect(error.options?.hint).toBe('Resume it first: kubectl rollout resume deployment/paused-api -n default');
    expect(plain.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('uses the named context and verifies the server with certificate-authority-data', async () => {
    const file = await kubeconfig('two-contexts.yaml', {
      'current-context': 'elsewhere',
      clusters: [
        { name: 'elsewhere', cluster: { server: 'https://127.0.0.1:1' } },
        { name: 'fake-tls', cluster: { server: secure.server, 'certificate-authority-data': caPem.toString('base64') } },
      ],
      contexts: [
        { name: 'elsewhere', context: { cluster: 'elsewhere', user: 'nobody' } },
        { name: 'ops', context: { cluster: 'fake-tls', user: 'switchboard' } },
      ],
      users: [
        { name: 'nobody', user: { token: 'wrong' } },
        { name: 'switchboard', user: { tokenFile: 'sa-token' } },
      ],
    });
    await writeFile(join(dir, 'sa-token'), `${TOKEN}\n`);
    const outcome = await restarter.restart(k8s({ kubeconfig: file, context: 'ops' }), { signal: signal() });
    expect(outcome.targets).toEqual(['deployment/brownie-api']);
    expect(secure.requests.map((r) => [r.method, r.headers.authorization])).toEqual([
      ['GET', `Bearer ${TOKEN}`],
      ['PATCH', `Bearer ${TOKEN}`],
    ]);
  });

  it('rejects a server certificate it cannot verify', async () => {
    const file = await kubeconfig('no-ca.yaml', singleContext(secure.server, { token: TOKEN }));
    const error = await failure(restarter.restart(k8s({ kubeconfig: file }), { signal: signal() }));
    expect(error.message).toBe(`Kubernetes API at ${secure.server} presented a self-signed certificate that is not trusted`);
    expect(error.options?.hint).toContain('certificate-authority-data');
    expect(secure.requests).toEqual([]);
  });

  it('connects in-cluster with the mounted service account token and CA', async () => {
    const accountDir = join(dir, 'serviceaccount');
    await mkdir(accountDir, { recursive: true });
    await writeFile(join(accountDir, 'token'), TOKEN);
    await writeFile(join(accountDir, 'ca.crt'), caPem);
    const port = new URL(secure.server).port;
    const inCluster = createRestarter({
      now: () => NOW,
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      serviceAccountDir: accountDir,
    });
    const outcome = await inCluster.restart(k8s({}), { signal: signal() });
    expect(outcome.detail).toContain('deployment/brownie-api in default');
    expect(secure.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('explains that it is neither configured nor in a cluster', async () => {
    const outside = createRestarter({ env: {}, serviceAccountDir: join(dir, 'none') });
    const error = await failure(outside.restart(k8s({}), { signal: signal() }));
    expect(error.message).toMatch(/^No kubeconfig is set and Switchboard is not running inside Kubernetes/);
    expect(error.options?.hint).toContain('restart.kubeconfig');
  });

  it.each([
    ['a missing context', { ...singleContext('http://127.0.0.1:1', { token: 'x' }), 'current-context': 'gone' }, 'has no context "gone" (contexts: ops)'],
    ['an exec credential plugin', singleContext('http://127.0.0.1:1', { exec: { command: 'aws', args: ['eks', 'get-token'] } }), 'user "switchboard" signs in through an exec or auth-provider plugin, which Switchboard does not run'],
    ['a cluster that is missing', { ...singleContext('http://127.0.0.1:1', { token: 'x' }), clusters: [] }, 'context "ops" names cluster "fake", which is not in clusters'],
  ])('reports a kubeconfig with %s', async (_, doc, message) => {
    const file = await kubeconfig('broken.yaml', doc);
    const error = await failure(restarter.restart(k8s({ kubeconfig: file }), { signal: signal() }));
    expect(error.message).toBe(`kubeconfig ${file}: ${message}`);
  });

  it('reports a kubeconfig that cannot be read', async () => {
    const error = await failure(restarter.restart(k8s({ kubeconfig: join(dir, 'absent.yaml') }), { signal: signal() }));
    expect(error.message).toBe(`Cannot read the kubeconfig at ${join(dir, 'absent.yaml')}: no such file`);
  });
});
