import type { KnownBlock } from '@slack/types';
import type { AnyAction } from './action.js';
import { codeSpan } from '../alerts/mrkdwn.js';
import { fitMessage, fitPlain, SLACK_LIMITS } from '../alerts/slack-budget.js';
import { escapeMrkdwn, type Reply } from './reply.js';

export const CONFIRM_ACTIONS = { run: 'confirm:run', cancel: 'confirm:cancel' } as const;

/**
 * The ephemeral prompt `/ops` shows before a destructive action: it names the exact target, as
 * typed (escaped: a target is what a person wrote). `detail` is the action's own mrkdwn.
 */
export function renderConfirmation(action: AnyAction, target: string | undefined, detail: string | undefined, confirmationId: string, ttlMinutes: number): Reply {
  const value = JSON.stringify({ v: 1, c: confirmationId });
  const what = `*${escapeMrkdwn(action.title)}*${target ? ` ${codeSpan(target, 200)}` : ''}`;
  const text = `⚠️ ${what}?${detail ? ` ${detail}` : ''}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: 'confirmation',
      elements: [
        { type: 'button', action_id: CONFIRM_ACTIONS.run, style: 'danger', text: { type: 'plain_text', text: fitPlain(`Yes, ${action.title.toLowerCase()}`, SLACK_LIMITS.buttonText) }, value },
        { type: 'button', action_id: CONFIRM_ACTIONS.cancel, text: { type: 'plain_text', text: 'Cancel' }, value },
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Only you can confirm this, once, within ${ttlMinutes} minutes.` }] },
  ];
  return fitMessage({ text, blocks });
}

/** Reads the confirmation id out of a Confirm or Cancel button value. */
export function confirmationIdOf(value: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(value ?? '') as { v?: unknown; c?: unknown };
    return parsed.v === 1 && typeof parsed.c === 'string' && /^[0-9a-f-]{36}$/.test(parsed.c) ? parsed.c : undefined;
  } catch {
    return undefined;
  }
}
