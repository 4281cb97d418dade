import type { BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { decodeButtonValue, type ButtonSigner, type ButtonValue } from '../../commands/button-value.js';
import { UserError, type UserErrorCode } from '../../commands/errors.js';
import type { RecordRefusal } from '../../commands/record-refusal.js';
import type { ButtonPlacement } from '../../store/button-placement.js';
import { respondSafely } from './respond.js';

export interface ButtonCheckDeps {
  signer: ButtonSigner;
  placement: ButtonPlacement;
  recordRefusal: RecordRefusal;
  logger: Logger;
}

/**
 * The value of a clicked Switchboard button, once it is known to be one Switchboard made and to
 * sit where it was put; otherwise undefined, after answering the clicker alone and recording the
 * refusal. A value must carry the server's signature, except on buttons posted before values
 * were signed: those are accepted only on their incident's own message or thread, and never
 * without an incident. A button naming an incident must be clicked on that incident's message,
 * its thread or the digest listing it; a signed one also in a direct message (escalation pages).
 */
export function createButtonCheck(deps: ButtonCheckDeps) {
  return async function checkButton(body: BlockAction<ButtonAction>, action: ButtonAction, respond: RespondFn, actionId?: string): Promise<ButtonValue | undefined> {
    const refuse = async (code: UserErrorCode, why: string) => {
      const text = new UserError(code, {} as never).message;
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text }, deps.logger);
      await deps.recordRefusal({ code, actionId: actionId ?? 'button', actor: { id: body.user.id, name: body.user.name, kind: 'user' }, origin: 'button', raw: `${action.action_id} ${action.value ?? ''} (${why})`, message: text });
      return undefined;
    };
    const value = decodeButtonValue(action.value);
    if (!value) return refuse('BUTTON_INVALID', 'malformed value');
    const origin = deps.signer.check(action.action_id, value);
    if (origin === 'forged') return refuse('BUTTON_INVALID', 'bad signature');
    if (!value.i) return origin === 'signed' ? value : refuse('BUTTON_INVALID', 'unsigned, with no incident');
    const channel = body.container?.channel_id ?? body.channel?.id;
    const messageTs = body.container?.message_ts ?? body.message?.ts;
    const threadTs = body.container?.thread_ts ?? body.message?.thread_ts;
    if (origin === 'signed' && typeof channel === 'string' && channel.startsWith('D')) return value;
    const placed = typeof channel === 'string' && typeof messageTs === 'string' && (await deps.placement.isOn(value.i, { channel, messageTs, threadTs }));
    if (!placed) return refuse('BUTTON_MISPLACED', `${origin}, clicked on ${channel ?? '?'}/${messageTs ?? '?'}`);
    return value;
  };
}

export type CheckButton = ReturnType<typeof createButtonCheck>;
