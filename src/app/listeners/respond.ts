import type { RespondArguments, RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { fitMessage } from '../../alerts/slack-budget.js';
import type { Reply } from '../../commands/reply.js';

/** Every command reply and click answer leaves through here, so every one is brought within Slack's limits. */
export const toResponse = (reply: Reply, options: { replaceOriginal?: boolean } = {}): RespondArguments => {
  const fitted = fitMessage(reply);
  return {
    response_type: reply.public ? 'in_channel' : 'ephemeral',
    text: fitted.text,
    ...(fitted.blocks ? { blocks: fitted.blocks } : {}),
    ...(options.replaceOriginal !== undefined ? { replace_original: options.replaceOriginal } : {}),
  };
};

/** A response_url answer that never throws: it expires after 30 minutes and 5 uses, and the run is recorded anyway. */
export async function respondSafely(respond: RespondFn, args: RespondArguments, logger: Logger, ref?: string): Promise<void> {
  try {
    await respond(args);
  } catch (error) {
    logger.warn({ err: error, ref }, 'could not answer through response_url (it expires after 30 minutes and 5 uses)');
  }
}

/**
 * Progress through response_url: it allows five uses, so only changes of phase are shown,
 * at most three, leaving one use for the result.
 */
export function responseUrlProgress(respond: RespondFn, logger: Logger): (text: string) => void {
  let uses = 0;
  let lastPhase = '';
  return (text) => {
    const phase = text.split(' (')[0] ?? text;
    if (uses >= 3 || phase === lastPhase) return;
    uses++;
    lastPhase = phase;
    void respondSafely(respond, { response_type: 'ephemeral', replace_original: true, text: `⏳ ${text}` }, logger);
  };
}
