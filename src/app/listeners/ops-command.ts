import { randomUUID } from 'node:crypto';
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Catalog } from '../../config/catalog-schema.js';
import type { ActionDeps, Actor } from '../../commands/action.js';
import type { Dispatcher } from '../../commands/dispatch.js';
import { UserError } from '../../commands/errors.js';
import type { Registry } from '../../commands/registry.js';
import { CONFIRM_ACTIONS, confirmationIdOf, renderConfirmation } from '../../commands/render-confirmation.js';
import { escapeMrkdwn } from '../../commands/reply.js';
import { resolveOpsCommand } from '../../commands/resolve-ops-command.js';
import type { RecordRefusal } from '../../commands/record-refusal.js';
import type { ConfirmationsRepository } from '../../store/confirmations-repository.js';
import { respondSafely, responseUrlProgress, toResponse } from './respond.js';

const CONFIRMATION_TTL_MS = 2 * 60_000;
const REASONS = { unknown: 'it does not exist', used: 'it was already used or cancelled', expired: 'it expired', not_yours: 'someone else asked for it' } as const;

export interface OpsCommandDeps {
  registry: Registry;
  catalog: Catalog;
  actionDeps: ActionDeps;
  dispatcher: Dispatcher;
  confirmations: ConfirmationsRepository;
  recordRefusal: RecordRefusal;
  logger: Logger;
  now?: () => Date;
}

/**
 * `/ops …`: answered at once when nothing runs; a destructive action is first confirmed with
 * an ephemeral prompt; every action is acknowledged and answered through `response_url`.
 */
export function registerOpsCommand(app: App, deps: OpsCommandDeps): void {
  const now = deps.now ?? (() => new Date());

  app.command('/ops', async ({ command, ack, respond }) => {
    const resolution = resolveOpsCommand(command.text, deps.registry, deps.catalog);
    const actor: Actor = { id: command.user_id, name: command.user_name, kind: 'user' };
    if (resolution.kind === 'reply') {
      await ack(toResponse(resolution.reply));
      // Text refused while parsing (a bad flag, a path, a look-alike letter) is audited like any refusal.
      const refused = resolution.refused;
      if (refused) await deps.recordRefusal({ code: refused.code, actionId: refused.actionId ?? 'ops', actor, origin: 'slash', raw: `/ops ${command.text}`, message: resolution.reply.text });
      return;
    }
    const { action, input } = resolution;
    if (action.risk === 'destructive') {
      // Ask only people who may do it; a refusal is recorded like any other.
      const check = await deps.dispatcher.dispatch({ actionId: action.id, input, actor, origin: 'slash', preflight: true });
      if (check.status !== 'allowed') {
        await ack(toResponse(check.reply));
        return;
      }
      const id = randomUUID();
      await deps.confirmations.create({ id, actionId: action.id, input, actorId: actor.id, now: now(), ttlMs: CONFIRMATION_TTL_MS });
      const parsed = action.input.safeParse(input);
      const detail = parsed.success ? action.confirmText?.(parsed.data, deps.actionDeps) : undefined;
      await ack(toResponse(renderConfirmation(action, action.target(input), detail, id, CONFIRMATION_TTL_MS / 60_000)));
      return;
    }
    await ack({ response_type: 'ephemeral', text: `⏳ Running \`${escapeMrkdwn(resolution.display)}\`…` });
    const result = await deps.dispatcher.dispatch({ actionId: action.id, input, actor, origin: 'slash', progress: responseUrlProgress(respond, deps.logger) });
    await respondSafely(respond, toResponse(result.reply, { replaceOriginal: !result.reply.public }), deps.logger, result.ref);
  });

  app.action(CONFIRM_ACTIONS.run, async ({ ack, body, action, respond }) => {
    await ack();
    const value = 'value' in action ? action.value : undefined;
    const id = confirmationIdOf(value);
    const consumed = id ? await deps.confirmations.consume(id, body.user.id, now()) : ({ ok: false, reason: 'unknown' } as const);
    if (!consumed.ok) {
      const text = new UserError('CONFIRMATION_INVALID', { reason: REASONS[consumed.reason] }).message;
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text }, deps.logger);
      // Someone else's confirmation, a second use, a forged id, the extra clicks of a burst: each is recorded.
      const clicker: Actor = { id: body.user.id, name: 'name' in body.user ? body.user.name : undefined, kind: 'user' };
      await deps.recordRefusal({ code: 'CONFIRMATION_INVALID', actionId: 'confirmation', actor: clicker, origin: 'button', raw: `${CONFIRM_ACTIONS.run} ${value ?? ''} (${consumed.reason})`, message: text });
      return;
    }
    await respondSafely(respond, { response_type: 'ephemeral', replace_original: true, text: '⏳ Confirmed, running…' }, deps.logger);
    const actor: Actor = { id: body.user.id, name: 'name' in body.user ? body.user.name : undefined, kind: 'user' };
    const result = await deps.dispatcher.dispatch({
      actionId: consumed.actionId,
      input: consumed.input,
      actor,
      origin: 'slash',
      confirmed: true,
      progress: responseUrlProgress(respond, deps.logger),
    });
    await respondSafely(respond, toResponse({ ...result.reply, public: true }, { replaceOriginal: false }), deps.logger, result.ref);
  });

  app.action(CONFIRM_ACTIONS.cancel, async ({ ack, body, action, respond }) => {
    await ack();
    const id = confirmationIdOf('value' in action ? action.value : undefined);
    const cancelled = id ? await deps.confirmations.cancel(id, body.user.id, now()) : false;
    await respondSafely(respond, { response_type: 'ephemeral', replace_original: true, text: cancelled ? 'Cancelled; nothing ran.' : 'Nothing to cancel.' }, deps.logger);
  });
}
