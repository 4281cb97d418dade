import { IntegrationError } from '../integration-error.js';
import { withDeadline, type Deadline } from '../restart/deadline.js';
import { RequestAborted, sendHttp, type HttpAnswer } from '../restart/http-request.js';
import type { KubernetesRestartConfig } from '../restart/schema.js';
import { describeSocketProblem, errorCode, excerpt } from '../restart/socket-problem.js';
import type { KindRestarter, RestartOutcome } from '../restart/types.js';
import { inClusterConnection, kubeconfigConnection, SERVICE_ACCOUNT_DIR, type KubeConnection } from './kube-connection.js';
import { parseWorkload, PLURAL, type Workload } from './workload.js';

/** The annotation `kubectl rollout restart` sets on the pod template (kubectl polymorphichelpers/objectrestarter.go). */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
/** Recorded in managedFields, so `kubectl get -o yaml --show-managed-fields` shows who restarted it. */
const FIELD_MANAGER = 'switchboard';

export interface KubernetesRestarterOptions {
  /** Wall clock in ms; the restartedAt value comes from it. */
  now?: () => number;
  /** Where in-cluster settings come from (KUBERNETES_SERVICE_HOST/PORT and the mounted service account). */
  env?: Readonly<Record<string, string | undefined>>;
  serviceAccountDir?: string;
}

/**
 * Does what `kubectl rollout restart` does: a strategic merge patch that stamps the pod template
 * with the current time, so the controller rolls every pod. The rollout itself runs on; the
 * action's verify step watches health afterwards.
 */
export function createKubernetesRestarter(options: KubernetesRestarterOptions = {}): KindRestarter<KubernetesRestartConfig> {
  const now = options.now ?? Date.now;
  const connect = (config: KubernetesRestartConfig) =>
    config.kubeconfig
      ? kubeconfigConnection(config.kubeconfig, config.context)
      : inClusterConnection({ env: options.env ?? process.env, serviceAccountDir: options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR });
  return {
    restart: (config, { signal }) =>
      withDeadline(signal, config.timeout, async (deadline) => rolloutRestart(config, await connect(config), deadline, now)),
  };
}

async function rolloutRestart(config: KubernetesRestartConfig, kube: KubeConnection, deadline: Deadline, now: () => number): Promise<RestartOutcome> {
  const workload = parseWorkload(config.resource);
  if (!workload) throw new IntegrationError(`"${config.resource}" is not deployment/<name>, statefulset/<name> or daemonset/<name>`);
  const ns = config.namespace;
  const path = `${kube.pathPrefix}/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/${PLURAL[workload.kind]}/${encodeURIComponent(workload.name)}`;
  const target = `${workload.kind}/${workload.name}`;
  const ctx: FailureContext = { kube, workload, ns, deadline };

  const send = async (verb: Verb, method: string, query: string, extra: { headers?: Record<string, string>; body?: string } = {}) => {
    const authorization = await kube.authorization();
    try {
      return await sendHttp(kube.endpoint, {
        method,
        path: `${path}${query}`,
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}), ...extra.headers },
        ...(extra.body !== undefined ? { body: extra.body } : {}),
        signal: deadline.signal,
      });
    } catch (error) {
      throw transportFailure(error, verb, ctx);
    }
  };

  // Read first, as kubectl does: a paused deployment takes the patch but never rolls.
  const current = await send('get', 'GET', '');
  if (current.status !== 200) throw statusFailure(current, 'get', ctx);
  if (workload.kind === 'deployment' && isPaused(current.body)) {
    throw new IntegrationError(`${target} in namespace ${ns} is paused, so a restart would not roll out`, {
      hint: `Resume it first: kubectl rollout resume ${target} -n ${ns}`,
    });
  }

  const restartedAt = new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
  const answer = await send('patch', 'PATCH', `?fieldManager=${FIELD_MANAGER}`, {
    headers: { 'content-type': STRATEGIC_MERGE_PATCH },
    body: JSON.stringify(patch),
  });
  if (answer.status !== 200) throw statusFailure(answer, 'patch', ctx);
  return { detail: `kubernetes rolling restart of ${target} in ${ns} started (restartedAt ${restartedAt})`, targets: [target] };
}

type Verb = 'get' | 'patch';

interface FailureContext {
  kube: KubeConnection;
  workload: Workload;
  ns: string;
  deadline: Deadline;
}

function isPaused(body: string): boolean {
  try {
    const object = JSON.parse(body) as { spec?: { paused?: unknown } };
    return object.spec?.paused === true;
  } catch {
    return false;
  }
}

/** Kubernetes answers errors with a `Status` object: `{kind: "Status", message, reason, details, code}`. */
function readStatus(body: string): { message?: string; reason?: string; details?: { name?: string; kind?: string } } {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as ReturnType<typeof readStatus>) : {};
  } catch {
    return {};
  }
}

function statusFailure(answer: HttpAnswer, verb: Verb, ctx: FailureContext): IntegrationError {
  const { kube, workload, ns } = ctx;
  const plural = PLURAL[workload.kind];
  const target = `${workload.kind}/${workload.name}`;
  const status = readStatus(answer.body);
  const said = status.message ? excerpt(status.message, 240) : `HTTP ${answer.status}`;
  switch (answer.status) {
    case 401:
      return new IntegrationError(`Kubernetes API at ${kube.server} rejected the credentials of ${kube.who} (401 Unauthorized)`, {
        hint: 'The token may have expired or been revoked; give Switchboard a current service-account token.',
      });
    case 403: {
      // "User \"system:serviceaccount:ops:switchboard\" cannot patch resource ..." names who lacks the right.
      const user = /User "([^"]+)"/.exec(status.message ?? '')?.[1];
      const who = user ? `${user}` : kube.who;
      return new IntegrationError(`Kubernetes refused to restart ${target}: ${who} lacks ${verb} on ${plural} in namespace ${ns}`, {
        hint: `Grant it a Role in ${ns} with apiGroups ["apps"], resources ["${plural}"], verbs ["get", "patch"], and a RoleBinding to it.`,
      });
    }
    case 404:
      if (status.reason === 'NotFound' && status.details?.name === workload.name) {
        return new IntegrationError(`Kubernetes has no ${workload.kind} named ${workload.name} in namespace ${ns}`, {
          hint: `Check with kubectl get ${plural} -n ${ns}.`,
        });
      }
      return new IntegrationError(`Kubernetes API at ${kube.server} answered 404 for ${target}: ${said}`);
    case 422:
      return new IntegrationError(`Kubernetes rejected the restart patch for ${target}: ${said}`);
    default:
      return new IntegrationError(`Kubernetes API at ${kube.server} answered HTTP ${answer.status} to ${verb} ${target}: ${said}`);
  }
}

function transportFailure(error: unknown, verb: Verb, ctx: FailureContext): IntegrationError {
  const target = `${ctx.workload.kind}/${ctx.workload.name}`;
  if (error instanceof RequestAborted) {
    return new IntegrationError(`Restart of ${target} ${ctx.deadline.why() ?? 'was cancelled'} (Kubernetes API at ${ctx.kube.server}, ${verb})`, { cause: error });
  }
  const code = errorCode(error);
  const tls = code !== undefined && /CERT|SIGNATURE|ALTNAME/.test(code);
  return new IntegrationError(`Kubernetes API at ${ctx.kube.server} ${describeSocketProblem(error)}`, {
    cause: error,
    ...(tls ? { hint: 'Give the cluster CA in the kubeconfig (certificate-authority-data) so its certificate can be verified.' } : {}),
  });
}
