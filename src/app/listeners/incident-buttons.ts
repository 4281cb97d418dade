import type { App, BlockAction, ButtonAction, RespondFn, ViewSubmitAction } from '@slack/bolt';
import type { View } from '@slack/types';
import type { Logger } from 'pino';
import { INCIDENT_ACTIONS } from '../../alerts/render-incident.js';
import type { ThreadOpener } from '../../alerts/storm.js';
import type { Dispatcher } from '../../commands/dispatch.js';
import { UserError } from '../../commands/errors.js';
import type { RecordRefusal } from '../../commands/record-refusal.js';
import { parseDuration } from '../../config/duration.js';
import type { CheckButton } from './button-check.js';
import { respondSafely } from './respond.js';

const SILENCE_MODAL = 'silence-modal';
const CHOICES = ['1h', '4h', '24h'] as const;

function silenceModal(incidentId: string): View {
  return {
    type: 'modal',
    callback_id: SILENCE_MODAL,
    private_metadata: incidentId,
    title: { type: 'plain_text', text: 'Silence incident' },
    submit: { type: 'plain_text', text: 'Silence' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'duration',
        label: { type: 'plain_text', text: 'For how long' },
        element: {
          type: 'static_select',
          action_id: 'choice',
          initial_option: { text: { type: 'plain_text', text: '4 hours' }, value: '4h' },
          options: CHOICES.map((c) => ({ text: { type: 'plain_text', text: c === '1h' ? '1 hour' : c === '4h' ? '4 hours' : '24 hours' }, value: c })),
        },
      },
      {
        type: 'input',
        block_id: 'custom',
        optional: true,
        label: { type: 'plain_text', text: 'Or another duration' },
        hint: { type: 'plain_text', text: 'Such as 30m, 2h or 3d; it replaces the choice above.' },
        element: { type: 'plain_text_input', action_id: 'value', max_length: 10 },
      },
      {
        type: 'input',
        block_id: 'comment',
        optional: true,
        label: { type: 'plain_text', text: 'Why' },
        element: { type: 'plain_text_input', action_id: 'value', max_length: 200 },
      },
    ],
  };
}

/**
 * The incident message's own buttons. Each becomes an action through `dispatch`, so
 * acknowledging, resolving and silencing are authorized and recorded like any run; the
 * thread shows the change through the incident's timeline, and only refusals and problems
 * answer the person who clicked.
 */
export function registerIncidentButtons(app: App, deps: { dispatcher: Dispatcher; recordRefusal: RecordRefusal; checkButton: CheckButton; logger: Logger; threads?: ThreadOpener }): void {
  /** A button whose value holds no incident: answered to the clicker alone, and recorded. */
  const refuseMalformed = async (body: BlockAction<ButtonAction>, action: ButtonAction, respond: RespondFn) => {
    const text = new UserError('BUTTON_INVALID', {}).message;
    await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text }, deps.logger);
    await deps.recordRefusal({ code: 'BUTTON_INVALID', actionId: 'button', actor: { id: body.user.id, name: body.user.name, kind: 'user' }, origin: 'button', raw: `${action.action_id} ${action.value ?? ''}`, message: text });
  };

  const run = async (actionId: string, input: Record<string, unknown>, user: { id: string; name?: string }, origin: 'button' | 'modal') =>
    deps.dispatcher.dispatch({ actionId, input, actor: { id: user.id, ...(user.name ? { name: user.name } : {}), kind: 'user' }, origin });

  const simple = { [INCIDENT_ACTIONS.ack]: 'incident.ack', [INCIDENT_ACTIONS.resolve]: 'incident.resolve', [INCIDENT_ACTIONS.unsilence]: 'silence.expire' } as const;
  for (const [buttonId, actionId] of Object.entries(simple)) {
    app.action<BlockAction<ButtonAction>>(buttonId, async ({ ack, body, action, respond }) => {
      await ack();
      const checked = await deps.checkButton(body, action, respond);
      if (!checked) return;
      const incident = checked.i;
      if (!incident) return refuseMalformed(body, action, respond);
      const input = actionId === 'silence.expire' ? { silence: incident } : { incident };
      const result = await run(actionId, input, { id: body.user.id, name: body.user.name }, 'button');
      // Success shows in the thread (the timeline) and the edited parent message; anything else is for the clicker.
      if (result.status !== 'succeeded' || /unchanged|already/.test(result.reply.text)) {
        await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text: result.reply.text }, deps.logger, result.ref);
      }
    });
  }

  // Not a dispatch: it changes no system and no incident, only where Slack shows one the channel
  // already lists, and it is idempotent. The parent goes through the outbox like every post.
  const threads = deps.threads;
  if (threads) {
    app.action<BlockAction<ButtonAction>>(INCIDENT_ACTIONS.openThread, async ({ ack, body, action, client, respond }) => {
      await ack();
      const checked = await deps.checkButton(body, action, respond);
      if (!checked) return;
      const incident = checked.i;
      if (!incident) return refuseMalformed(body, action, respond);
      const result = await threads.open(incident);
      if (result.status === 'opened') return;
      let text = 'This incident is no longer in a digest; `/ops incidents` lists the open ones.';
      if (result.status === 'already') {
        const link = result.message
          ? await client.chat
              .getPermalink({ channel: result.message.channel, message_ts: result.message.ts })
              .then((r) => r.permalink)
              .catch((error: unknown) => deps.logger.warn({ err: error }, 'could not get the permalink of an incident thread'))
          : undefined;
        text = link ? `This incident's thread is already open: <${link}|go to the thread>.` : "This incident's thread is already open (or being posted) in this channel.";
      }
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text }, deps.logger);
    });
  }

  app.action<BlockAction<ButtonAction>>(INCIDENT_ACTIONS.silence, async ({ ack, body, action, client, respond }) => {
    await ack();
    const checked = await deps.checkButton(body, action, respond);
    if (!checked) return;
    const incident = checked.i;
    if (!incident) return refuseMalformed(body, action, respond);
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: silenceModal(incident) });
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not open the silence dialog');
      await respondSafely(respond, { response_type: 'ephemeral', replace_original: false, text: 'Slack did not open the dialog in time; use `/ops silence #&lt;incident&gt; 4h` instead.' }, deps.logger);
    }
  });

  app.view<ViewSubmitAction>(SILENCE_MODAL, async ({ ack, body, view, client }) => {
    const values = view.state.values;
    const custom = values.custom?.value?.value?.trim();
    const duration = custom || values.duration?.choice?.selected_option?.value || '4h';
    if (custom && parseDuration(custom) === undefined) {
      await ack({ response_action: 'errors', errors: { custom: 'Write a duration such as 30m, 2h or 3d.' } });
      return;
    }
    await ack();
    const comment = values.comment?.value?.value?.trim();
    const result = await run('silence.create', { what: view.private_metadata, duration, ...(comment ? { comment } : {}) }, { id: body.user.id, name: body.user.name }, 'modal');
    if (result.status !== 'succeeded') {
      // A modal has no response_url; a direct message is the one place left to say why.
      await client.chat.postMessage({ channel: body.user.id, text: result.reply.text }).catch((error: unknown) => deps.logger.warn({ err: error }, 'could not tell the user why the silence failed'));
    }
  });
}
