import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { IncidentDesk } from '../../alerts/incident-desk.js';
import { actionFromActionId } from '../../commands/button-value.js';
import type { Dispatcher } from '../../commands/dispatch.js';
import { UserError } from '../../commands/errors.js';
import type { RecordRefusal } from '../../commands/record-refusal.js';
import type { Registry } from '../../commands/registry.js';
import { respondSafely } from './respond.js';
import type { CheckButton } from './button-check.js';
import { createThreadProgress } from './thread-progress.js';


/**
 * Runbook buttons (`act:<action id>`): the value names catalog ids only; destructive ones
 * carry a Slack confirm dialog, so a click on them is a confirmation. The result goes into
 * the thread of the message that holds the button.
 */
export function registerActionButtons(app: App, deps: { registry: Registry; dispatcher: Dispatcher; incidents: IncidentDesk; recordRefusal: RecordRefusal; checkButton: CheckButton; logger: Logger }): void {
  app.action<BlockAction<ButtonAction>>(/^act:/, async ({ ack, body, action, client, respond }) => {
    await ack();
    const actionId = actionFromActionId(action.action_id);
    const definition = actionId ? deps.registry.get(actionId) : undefined;
    if (!definition) {
      const text = new UserError('BUTTON_INVALID', {}).message;
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text }, deps.logger);
      await deps.recordRefusal({ code: 'BUTTON_INVALID', actionId: 'button', actor: { id: body.user.id, name: body.user.name, kind: 'user' }, origin: 'button', raw: `${action.action_id} ${action.value ?? ''}`, message: text });
      return;
    }
    // Made by Switchboard (signed), unchanged, and clicked on the incident it names.
    const value = await deps.checkButton(body, action, respond, definition.id);
    if (!value) return;
    const channel = body.channel?.id;
    const threadTs = body.message?.thread_ts ?? body.message?.ts;
    // On an incident message the result belongs to the incident's timeline, written through the outbox.
    const incident = value.i;
    const thread = channel && threadTs && !incident ? createThreadProgress(client, channel, threadTs, deps.logger) : undefined;
    const result = await deps.dispatcher.dispatch({
      actionId: definition.id,
      input: value.in,
      actor: { id: body.user.id, name: body.user.name, kind: 'user' },
      origin: 'button',
      confirmed: definition.risk === 'destructive',
      ...(thread ? { progress: thread.progress } : {}),
    });
    const who = `<@${body.user.id}>: `;
    if (incident && (result.status === 'succeeded' || result.status === 'failed' || result.status === 'timed_out')) {
      const target = definition.target(value.in);
      await deps.incidents.recordRun(incident, body.user.id, { actionTitle: definition.title, status: result.status, summary: result.reply.text, ref: result.ref, ...(target ? { target } : {}) });
      return;
    }
    if (result.status === 'refused' || result.status === 'invalid' || !thread) {
      // Refusals are for the person who clicked, not the channel.
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text: result.reply.text }, deps.logger, result.ref);
      return;
    }
    await thread.finish({ ...result.reply, text: who + result.reply.text });
  });
}
