export type WorkloadKind = 'deployment' | 'statefulset' | 'daemonset';

/** A workload that `kubectl rollout restart` accepts. */
export interface Workload {
  kind: WorkloadKind;
  name: string;
}

/** kubectl's spellings of the three kinds, so `deploy/x` and `sts/x` work as they do on the command line. */
const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
};

/** Object names are DNS subdomains: lowercase, digits, "-" and ".". */
const OBJECT_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** Parses "deployment/brownie-api"; undefined when the kind or the name is not valid. */
export function parseWorkload(text: string): Workload | undefined {
  const [kindText, name, ...rest] = text.trim().split('/');
  const kind = KIND_ALIASES[(kindText ?? '').toLowerCase()];
  if (!kind || name === undefined || rest.length > 0 || !OBJECT_NAME.test(name)) return undefined;
  return { kind, name };
}

/** The REST collection of a kind in the apps/v1 group. */
export const PLURAL: Record<WorkloadKind, string> = {
  deployment: 'deployments',
  statefulset: 'statefulsets',
  daemonset: 'daemonsets',
};
