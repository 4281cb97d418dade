import type { Logger } from 'pino';
import { codeSpan, isSlackUserId, slackDate } from '../alerts/mrkdwn.js';
import { formatDuration } from '../config/duration.js';
import type { RunOrigin, RunsRepository, RunStatus } from '../store/runs-repository.js';
import type { ActionDeps, Actor, AnyAction } from './action.js';
import type { Authorizer } from './authorize.js';
import { isIntegrationError } from '../integrations/integration-error.js';
import { isUserError, UserError } from './errors.js';
import type { Registry } from './registry.js';
import { textReply, type Reply } from './reply.js';

export interface DispatchRequest {
  actionId: string;
  input: unknown;
  actor: Actor;
  origin: RunOrigin;
  /** The person confirmed this destructive run (a confirm dialog or a used /ops confirmation). */
  confirmed?: boolean;
  /** Only validate and authorize (recording a refusal): used before asking for a confirmation. */
  preflight?: boolean;
  /** Shows how a long run is going (phase, elapsed time); the caller decides where. */
  progress?: (text: string) => void;
}

export interface DispatchResult {
  /** `allowed` answers a preflight that passed; nothing ran. */
  status: RunStatus | 'invalid' | 'allowed';
  ref: string;
  reply: Reply;
}

export interface Dispatcher {
  dispatch(request: DispatchRequest): Promise<DispatchResult>;
  /** Resolves when every run in flight has ended, or after `timeoutMs`, aborting the rest. */
  drain(timeoutMs: number): Promise<void>;
}

export interface DispatcherOptions {
  registry: Registry;
  deps: ActionDeps;
  runs: RunsRepository;
  authorize: Authorizer;
  logger: Logger;
  now?: () => Date;
  newId: () => string;
  newRef: () => string;
  onRunEnd?: (action: AnyAction, status: RunStatus, durationMs: number) => void;
}

// A 'running' row outlives its action's timeout by this much before another run may take over.
const ABANDON_GRACE_MS = 60_000;

/** Slack renders this in each reader's own time zone. */
const slackTime = (at: Date) => slackDate(at, 'at {time} on {date_short}');

function cooldownFor(deps: ActionDeps, action: AnyAction, target: string | undefined): number {
  const service = target && Object.hasOwn(deps.catalog.services, target) ? deps.catalog.services[target] : undefined;
  return service?.cooldowns?.[action.id] ?? action.cooldownMs ?? 0;
}

const unexpected = (ref: string): Reply => textReply(`Something went wrong (ref \`${ref}\`). The details are in Switchboard's log under that ref.`);

/**
 * The one way every trigger runs an action: validate, authorize, record, run with a timeout,
 * and turn every ending into a recorded status and a reply.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { registry, deps, runs, authorize, logger } = options;
  const now = options.now ?? (() => new Date());
  const inFlight = new Map<string, AbortController>();
  const pending = new Set<Promise<unknown>>();

  async function permissionError(action: AnyAction, input: unknown, request: DispatchRequest): Promise<UserError | undefined> {
    const decision = await authorize(request.actor, action, input);
    if (decision.allowed) return undefined;
    const target = action.target(input);
    const roles = decision.roles.length ? ` (a role such as ${decision.roles.map((r) => `\`${r}\``).join(', ')})` : '';
    return new UserError('PERMISSION_DENIED', { action: action.title.toLowerCase(), permission: decision.missing, target: target ? ` ${codeSpan(target, 200)}` : '', roles });
  }

  async function runAction(action: AnyAction, input: unknown, request: DispatchRequest, ref: string): Promise<DispatchResult> {
    const id = options.newId();
    const target = action.target(input);
    const startedAt = now();
    const record = { id, ref, actionId: action.id, target, input, actorId: request.actor.id, actorName: request.actor.name, origin: request.origin, startedAt };
    const log = logger.child({ ref, action: action.id, target, actor: request.actor.id, origin: request.origin });

    const refuse = async (error: UserError, logMessage: string): Promise<DispatchResult> => {
      await runs.refuse(record, error.code, error.message);
      log.info({ code: error.code }, logMessage);
      options.onRunEnd?.(action, 'refused', 0);
      return { status: 'refused', ref, reply: textReply(error.message) };
    };
    const what = { action: action.title, target: target ? ` of ${codeSpan(target, 200)}` : '' };
    const timeoutMs = typeof action.timeoutMs === 'number' ? action.timeoutMs : action.timeoutMs(input, deps);

    const denied = await permissionError(action, input, request);
    if (denied) return refuse(denied, 'run refused: missing permission');
    if (request.preflight) return { status: 'allowed', ref, reply: textReply('') };
    // Buttons carry a Slack confirm dialog and /ops asks first; this is the check at execution.
    if (action.risk === 'destructive' && request.actor.kind === 'user' && !request.confirmed) {
      return refuse(new UserError('CONFIRMATION_REQUIRED', what), 'run refused: not confirmed');
    }

    if (action.risk === 'read') {
      await runs.start(record);
    } else {
      const blocked = await runs.startExclusive(record, {
        deadlineAt: new Date(startedAt.getTime() + timeoutMs + ABANDON_GRACE_MS),
        cooldownMs: cooldownFor(deps, action, target),
      });
      if (blocked?.blocked === 'running') {
        const by = blocked.by;
        // Automations and schedules are not Slack users: name them rather than mention them.
        const starter = by && (isSlackUserId(by.actorId) ? `<@${by.actorId}>` : codeSpan(by.actorName ?? by.actorId, 80));
        const who = by ? `, started by ${starter} ${slackTime(by.startedAt)} (ref \`${by.ref}\`)` : '';
        return refuse(new UserError('RUN_IN_PROGRESS', { ...what, who }), 'run refused: already running');
      }
      if (blocked?.blocked === 'cooldown') {
        const last = `${slackTime(blocked.last.finishedAt!)} (ref \`${blocked.last.ref}\`)`;
        return refuse(new UserError('RUN_COOLING_DOWN', { ...what, last, until: slackTime(blocked.until) }), 'run refused: cooling down');
      }
    }

    const controller = new AbortController();
    inFlight.set(id, controller);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let status: Exclude<RunStatus, 'running' | 'refused'>;
    let reply: Reply;
    let summary: string;
    let errorCode: string | undefined;
    try {
      const outcome = await Promise.race([action.run({ input, deps, actor: request.actor, signal: controller.signal, ref, progress: request.progress ?? (() => undefined) }), timedOut]);
      if (outcome === 'timeout') {
        controller.abort(new Error('timed out'));
        const error = new UserError('ACTION_TIMED_OUT', { action: action.title, after: formatDuration(timeoutMs) });
        status = 'timed_out';
        reply = textReply(error.message);
        summary = error.message;
        errorCode = error.code;
      } else {
        status = outcome.ok ? 'succeeded' : 'failed';
        reply = outcome.reply;
        summary = outcome.summary;
      }
    } catch (error) {
      status = 'failed';
      if (isUserError(error)) {
        reply = textReply(error.message);
        summary = error.message;
        errorCode = error.code;
      } else if (isIntegrationError(error)) {
        // Outside systems failing is expected news for the operator, worded for them; the cause goes to the log.
        log.warn({ err: error.options.cause ?? error }, `${action.id} failed: ${error.message}`);
        reply = textReply(`✗ ${action.title}${target ? ` of ${codeSpan(target, 200)}` : ''} failed: ${error.message}${error.options.hint ? `\n${error.options.hint}` : ''}`);
        summary = error.message;
        errorCode = 'INTEGRATION_FAILED';
      } else {
        log.error({ err: error }, 'action failed unexpectedly');
        reply = unexpected(ref);
        summary = error instanceof Error ? error.message : String(error);
        errorCode = 'UNEXPECTED';
      }
    } finally {
      clearTimeout(timer);
      inFlight.delete(id);
    }
    const durationMs = now().getTime() - startedAt.getTime();
    await runs.finish(id, { status, finishedAt: now(), durationMs, summary, ...(errorCode ? { errorCode } : {}) });
    log.info({ status, durationMs }, 'run finished');
    options.onRunEnd?.(action, status, durationMs);
    return { status, ref, reply };
  }

  async function dispatch(request: DispatchRequest): Promise<DispatchResult> {
    const ref = options.newRef();
    const action = registry.get(request.actionId);
    if (!action) {
      logger.warn({ ref, actionId: request.actionId }, 'dispatch of an unknown action id');
      return { status: 'invalid', ref, reply: textReply('This button belongs to an action Switchboard no longer has. Use `/ops help` to find its replacement.') };
    }
    const parsed = action.input.safeParse(request.input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'} ${i.message}`).join('; ');
      return { status: 'invalid', ref, reply: textReply(new UserError('INPUT_INVALID', { problems }).message) };
    }
    const work = runAction(action, parsed.data, request, ref).catch((error: unknown) => {
      // The store failing while recording is the one thing runAction cannot answer for itself.
      logger.error({ err: error, ref, action: action.id }, 'dispatch failed');
      return { status: 'failed' as const, ref, reply: unexpected(ref) };
    });
    pending.add(work);
    void work.finally(() => pending.delete(work));
    return work;
  }

  async function drain(timeoutMs: number): Promise<void> {
    if (pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...pending]), expired]);
    clearTimeout(timer);
    for (const controller of inFlight.values()) controller.abort(new Error('shutting down'));
  }

  return { dispatch, drain };
}
