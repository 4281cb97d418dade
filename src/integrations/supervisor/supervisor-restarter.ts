import { IntegrationError } from '../integration-error.js';
import { withDeadline, type Deadline } from '../restart/deadline.js';
import { RequestAborted } from '../restart/http-request.js';
import type { SupervisorRestartConfig } from '../restart/schema.js';
import type { KindRestarter, RestartOutcome } from '../restart/types.js';
import { describeSupervisorFailure, describeSupervisord, Faults, type SupervisorStep } from './describe-failure.js';
import { XmlRpcFault, type XmlRpcValue } from './xml-rpc.js';
import { createXmlRpcClient, type XmlRpcClient } from './xml-rpc-client.js';

/** States in which supervisord's stopProcess applies (supervisor/states.py RUNNING_STATES). */
const RUNNING_STATES = new Set(['RUNNING', 'STARTING', 'BACKOFF']);

interface ProcessInfo {
  pid: number;
  statename: string;
  spawnerr: string;
  exitstatus: number;
}

/** Restarts supervisord programs over XML-RPC: stop (waiting), then start (waiting), one program at a time. */
export function createSupervisorRestarter(): KindRestarter<SupervisorRestartConfig> {
  return {
    restart: (config, { signal }) => withDeadline(signal, config.timeout, (deadline) => restartPrograms(config, deadline)),
  };
}

async function restartPrograms(config: SupervisorRestartConfig, deadline: Deadline): Promise<RestartOutcome> {
  const client = createXmlRpcClient(config);
  const where = describeSupervisord(config.url);
  const restarted: string[] = [];
  const call = async (method: string, params: XmlRpcValue[], program: string, step: SupervisorStep) => {
    try {
      return await client.call(method, params, deadline.signal);
    } catch (error) {
      const startFailed = error instanceof XmlRpcFault && (error.faultCode === Faults.SPAWN_ERROR || error.faultCode === Faults.ABNORMAL_TERMINATION);
      const info = startFailed ? await lastKnownInfo(client, program, deadline) : undefined;
      throw describeSupervisorFailure(error, {
        where,
        program,
        step,
        restarted,
        timedOut: error instanceof RequestAborted ? deadline.why() : undefined,
        ...(info ? { spawnerr: info.spawnerr, exitstatus: info.exitstatus } : {}),
      });
    }
  };

  // Look every program up first, so a typo in the second name does not leave the first one restarted.
  const before: ProcessInfo[] = [];
  for (const program of config.programs) {
    before.push(toProcessInfo(await call('supervisor.getProcessInfo', [program], program, 'look up')));
  }

  for (const [index, program] of config.programs.entries()) {
    const was = before[index];
    if (was && RUNNING_STATES.has(was.statename)) {
      await tolerate(call('supervisor.stopProcess', [program, true], program, 'stop'), Faults.NOT_RUNNING);
    }
    await tolerate(call('supervisor.startProcess', [program, true], program, 'start'), Faults.ALREADY_STARTED);
    const now = toProcessInfo(await call('supervisor.getProcessInfo', [program], program, 'check'));
    restarted.push(`${program} (${describeChange(was, now)})`);
  }
  return { detail: `supervisord restarted ${restarted.join(', ')}`, targets: [...config.programs] };
}

/** A fault that only says the program already is where the restart is taking it (someone else moved it). */
async function tolerate(pending: Promise<XmlRpcValue>, faultCode: number): Promise<void> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof IntegrationError && error.cause instanceof XmlRpcFault && error.cause.faultCode === faultCode) return;
    throw error;
  }
}

/** Best effort: why the start failed, as supervisord recorded it. */
async function lastKnownInfo(client: XmlRpcClient, program: string, deadline: Deadline): Promise<ProcessInfo | undefined> {
  try {
    return toProcessInfo(await client.call('supervisor.getProcessInfo', [program], deadline.signal));
  } catch {
    return undefined;
  }
}

function describeChange(was: ProcessInfo | undefined, now: ProcessInfo): string {
  const after = now.pid > 0 ? `pid ${now.pid}` : now.statename;
  if (was && was.pid > 0) return `pid ${was.pid} → ${now.pid > 0 ? now.pid : now.statename}`;
  return `was ${was?.statename ?? 'unknown'}, now ${after}`;
}

function toProcessInfo(value: XmlRpcValue): ProcessInfo {
  const struct = value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) ? value : {};
  return {
    pid: typeof struct.pid === 'number' ? struct.pid : 0,
    statename: typeof struct.statename === 'string' ? struct.statename : 'UNKNOWN',
    spawnerr: typeof struct.spawnerr === 'string' ? struct.spawnerr : '',
    exitstatus: typeof struct.exitstatus === 'number' ? struct.exitstatus : 0,
  };
}
