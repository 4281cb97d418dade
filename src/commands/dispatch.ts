import type { Logger } from 'pino';
import { formatDuration } from '../config/duration.js';
import type { RunOrigin, RunsRepository, RunStatus } from '../store/runs-repository.js';
import type { ActionDeps, Actor, AnyAction } from './action.js';
import type { Authorizer } from './authorize.js';
import { isUserError, UserError } from './errors.js';
import type { Registry } from './registry.js';
import { textReply, type Reply } from './reply.js';

export interface DispatchRequest {
  actionId: string;
  input: unknown;
  actor: Actor;
  origin: RunOrigin;
}

export interface DispatchResult {
  status: RunStatus | 'invalid';
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

  async function runAction(action: AnyAction, input: unknown, request: DispatchRequest, ref: string): Promise<DispatchResult> {
    const id = options.newId();
    const target = action.target(input);
    const startedAt = now();
    const record = { id, ref, actionId: action.id, target, input, actorId: request.actor.id, actorName: request.actor.name, origin: request.origin, startedAt };
    const log = logger.child({ ref, action: action.id, target, actor: request.actor.id, origin: request.origin });

    const decision = await authorize(request.actor, action, input);
    if (!decision.allowed) {
      const error = new UserError('PERMISSION_DENIED', {
        action: action.title.toLowerCase(),
        permission: decision.missing,
        target: target ? ` \`${target}\`` : '',
      });
      await runs.refuse(record, error.code, error.message);
      log.info({ missing: decision.missing }, 'run refused: missing permission');
      options.onRunEnd?.(action, 'refused', 0);
      return { status: 'refused', ref, reply: textReply(error.message) };
    }

    await runs.start(record);
    const controller = new AbortController();
    inFlight.set(id, controller);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), action.timeoutMs);
    });
    let status: Exclude<RunStatus, 'running' | 'refused'>;
    let reply: Reply;
    let summary: string;
    let errorCode: string | undefined;
    try {
      const outcome = await Promise.race([action.run({ input, deps, actor: request.actor, signal: controller.signal, ref }), timedOut]);
      if (outcome === 'timeout') {
        controller.abort(new Error('timed out'));
        const error = new UserError('ACTION_TIMED_OUT', { action: action.title, after: formatDuration(action.timeoutMs) });
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
