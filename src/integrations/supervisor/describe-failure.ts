import { IntegrationError } from '../integration-error.js';
import { RequestAborted } from '../restart/http-request.js';
import { describeSocketProblem, errorCode, excerpt } from '../restart/socket-problem.js';
import { XmlRpcFault, XmlRpcFormatError } from './xml-rpc.js';
import { XmlRpcHttpError } from './xml-rpc-client.js';

export type SupervisorStep = 'look up' | 'stop' | 'start' | 'check';

/** Fault codes of supervisor/xmlrpc.py (class Faults). */
export const Faults = {
  UNKNOWN_METHOD: 1,
  INCORRECT_PARAMETERS: 2,
  BAD_ARGUMENTS: 3,
  SHUTDOWN_STATE: 6,
  BAD_NAME: 10,
  NO_FILE: 20,
  NOT_EXECUTABLE: 21,
  FAILED: 30,
  ABNORMAL_TERMINATION: 40,
  SPAWN_ERROR: 50,
  ALREADY_STARTED: 60,
  NOT_RUNNING: 70,
} as const;

export interface FailureContext {
  /** "supervisord at http://127.0.0.1:9001/RPC2" */
  where: string;
  program: string;
  step: SupervisorStep;
  /** Programs already restarted before this failure, with their pid change. */
  restarted: readonly string[];
  /** The deadline's reason when the request was aborted. */
  timedOut?: string;
  spawnerr?: string;
  exitstatus?: number;
}

const TAIL_HINT = (program: string) => `See why with \`supervisorctl tail ${program} stderr\` and check its command= and startsecs= settings.`;

/** "supervisord at http://127.0.0.1:9001/RPC2" or "supervisord at unix:///run/supervisor.sock", never with credentials or query. */
export function describeSupervisord(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:') return `supervisord at unix://${parsed.pathname}`;
  return `supervisord at ${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** Turns whatever the XML-RPC call threw into a sentence the operator can act on. */
export function describeSupervisorFailure(error: unknown, ctx: FailureContext): IntegrationError {
  const { text, hint } = explain(error, ctx);
  const partial = ctx.restarted.length > 0 ? ` (already restarted: ${ctx.restarted.join(', ')})` : '';
  return new IntegrationError(`${text}${partial}`, { cause: error, ...(hint ? { hint } : {}) });
}

function explain(error: unknown, ctx: FailureContext): { text: string; hint?: string } {
  const { where, program, step } = ctx;
  const unix = where.includes('unix://');
  if (error instanceof RequestAborted) {
    return {
      text: `Restart through ${where} ${ctx.timedOut ?? 'was cancelled'} while trying to ${step} ${program}`,
      hint: `Check its state with \`supervisorctl status ${program}\`; a slow stop is governed by stopwaitsecs=, a slow start by startsecs=.`,
    };
  }
  if (error instanceof XmlRpcFault) return explainFault(error, ctx);
  if (error instanceof XmlRpcHttpError) {
    if (error.status === 401) {
      return {
        text: `${where} rejected the username/password (HTTP 401)`,
        hint: `Set restart.username and restart.password to the values of ${unix ? '[unix_http_server]' : '[inet_http_server]'} in supervisord.conf.`,
      };
    }
    return {
      text: `${where} answered HTTP ${error.status} instead of XML-RPC`,
      hint: 'The XML-RPC endpoint is usually http://host:port/RPC2.',
    };
  }
  if (error instanceof XmlRpcFormatError) {
    return { text: `${where} did not answer like supervisord (${excerpt(error.message, 120)})`, hint: 'Check that the URL points at supervisord, usually http://host:port/RPC2.' };
  }
  const code = errorCode(error);
  if (unix && (code === 'ENOENT' || code === 'ECONNREFUSED')) {
    return {
      text: `${where} ${describeSocketProblem(error)}; is supervisord running with its unix socket enabled?`,
      hint: 'In supervisord.conf: [unix_http_server] file=/var/run/supervisor.sock, plus [rpcinterface:supervisor] supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface; then restart supervisord.',
    };
  }
  if (unix && code === 'EACCES') {
    return {
      text: `${where} ${describeSocketProblem(error)}`,
      hint: "Let the bot's user use the socket: chmod= and chown= in [unix_http_server] (for example chmod=0770, chown=root:switchboard).",
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      text: `${where} refused the connection; is supervisord running with its HTTP server enabled?`,
      hint: 'In supervisord.conf: [inet_http_server] port=127.0.0.1:9001 (with username= and password=), plus [rpcinterface:supervisor] supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface; then restart supervisord.',
    };
  }
  return { text: `${where} ${describeSocketProblem(error)} while trying to ${step} ${program}` };
}

function explainFault(fault: XmlRpcFault, ctx: FailureContext): { text: string; hint?: string } {
  const { where, program, step } = ctx;
  // supervisord formats faults as "NAME: extra".
  const extra = fault.faultString.includes(': ') ? fault.faultString.slice(fault.faultString.indexOf(': ') + 2) : '';
  switch (fault.faultCode) {
    case Faults.BAD_NAME:
      return {
        text: `${where} has no program named "${program}"`,
        hint: 'Use the name `supervisorctl status` shows: the program, or group:program for a program in a group.',
      };
    case Faults.UNKNOWN_METHOD:
      return {
        text: `${where} does not offer the supervisor XML-RPC interface`,
        hint: 'Add to supervisord.conf: [rpcinterface:supervisor] supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface; then restart supervisord.',
      };
    case Faults.SHUTDOWN_STATE:
      return { text: `${where} is shutting down; ${program} cannot be restarted now` };
    case Faults.SPAWN_ERROR:
      return { text: `supervisord could not start ${program}: ${ctx.spawnerr || 'spawn error'}`, hint: TAIL_HINT(program) };
    case Faults.ABNORMAL_TERMINATION:
      return {
        text: `${program} exited while starting${ctx.exitstatus ? ` (exit status ${ctx.exitstatus})` : ''}; supervisord gave up`,
        hint: TAIL_HINT(program),
      };
    case Faults.NO_FILE:
      return { text: `supervisord could not start ${program}: its command was not found${extra ? ` (${extra})` : ''}`, hint: TAIL_HINT(program) };
    case Faults.NOT_EXECUTABLE:
      return { text: `supervisord could not start ${program}: its command is not executable${extra ? ` (${extra})` : ''}` };
    case Faults.FAILED:
      return { text: `supervisord failed to ${step} ${program}${extra ? `: ${extra}` : ''}` };
    case Faults.NOT_RUNNING:
      return { text: `${program} is not running, so supervisord could not ${step} it` };
    case Faults.ALREADY_STARTED:
      return { text: `${program} was already started by someone else` };
    default:
      return { text: `${where} answered "${excerpt(fault.faultString, 160)}" while trying to ${step} ${program}` };
  }
}
