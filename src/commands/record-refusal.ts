import type { Logger } from 'pino';
import type { RunOrigin, RunsRepository } from '../store/runs-repository.js';
import type { Actor } from './action.js';

/** Raw input kept with a refusal: enough to see what was tried, never a whole payload. */
const RAW_MAX = 500;

export interface Refusal {
  /** A catalogue code: `COMMAND_USAGE`, `BUTTON_INVALID`, `CONFIRMATION_INVALID`, … */
  code: string;
  /** The action asked for when it is known; otherwise what was refused (`ops`, `button`, `confirmation`). */
  actionId: string;
  target?: string;
  actor: Actor;
  origin: RunOrigin;
  /** What arrived, as text: the `/ops` line, the button's action id and value. */
  raw: string;
  /** What the person was told. */
  message: string;
}

/**
 * Records a refusal that happens before `dispatch` (text refused while parsing, a malformed or
 * misplaced button, a misused confirmation) as a `refused` run with its code, the actor and the
 * raw input, and logs it: every refusal leaves the same audit trace as one `dispatch` decides.
 */
export function createRefusalRecorder(options: { runs: RunsRepository; logger: Logger; newId: () => string; newRef: () => string; now?: () => Date }) {
  const now = options.now ?? (() => new Date());
  return async function recordRefusal(refusal: Refusal): Promise<string> {
    const ref = options.newRef();
    const raw = refusal.raw.length > RAW_MAX ? `${refusal.raw.slice(0, RAW_MAX - 1)}…` : refusal.raw;
    const log = { ref, code: refusal.code, action: refusal.actionId, target: refusal.target, actor: refusal.actor.id, origin: refusal.origin, raw };
    try {
      await options.runs.refuse(
        { id: options.newId(), ref, actionId: refusal.actionId, target: refusal.target, input: { raw }, actorId: refusal.actor.id, actorName: refusal.actor.name, origin: refusal.origin, startedAt: now() },
        refusal.code,
        refusal.message,
      );
      options.logger.info(log, `refused: ${refusal.code}`);
    } catch (error) {
      // The person still gets their answer; the log keeps what the store could not.
      options.logger.error({ ...log, err: error }, `refused: ${refusal.code} (not recorded in runs: the store failed)`);
    }
    return ref;
  };
}

export type RecordRefusal = ReturnType<typeof createRefusalRecorder>;
