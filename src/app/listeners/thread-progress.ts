import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { fitMessage } from '../../alerts/slack-budget.js';
import type { Reply } from '../../commands/reply.js';

const MIN_UPDATE_INTERVAL_MS = 5_000;

/**
 * One thread message that shows a run's progress and then its result, so a long backup is a
 * single line that changes rather than a stream of replies.
 */
export function createThreadProgress(client: WebClient, channel: string, threadTs: string, logger: Logger) {
  let ts: Promise<string | undefined> | undefined;
  let lastUpdate = 0;
  const post = (text: string) =>
    client.chat.postMessage({ channel, thread_ts: threadTs, text }).then(
      (r) => r.ts,
      (error: unknown) => {
        logger.warn({ err: error, channel }, 'could not post progress in the thread; is @switchboard in the channel?');
        return undefined;
      },
    );
  return {
    progress(text: string) {
      if (!ts) {
        ts = post(`⏳ ${text}`);
        lastUpdate = Date.now();
        return;
      }
      if (Date.now() - lastUpdate < MIN_UPDATE_INTERVAL_MS) return;
      lastUpdate = Date.now();
      void ts.then(async (messageTs) => {
        if (messageTs) await client.chat.update({ channel, ts: messageTs, text: `⏳ ${text}` }).catch(() => undefined);
      });
    },
    async finish(result: Reply) {
      const messageTs = ts ? await ts : undefined;
      // The result edits the progress message: Slack refuses an edit over its limits (msg_too_long) rather than cutting it.
      const reply = fitMessage(result);
      const args = { channel, text: reply.text, ...(reply.blocks ? { blocks: reply.blocks } : {}) };
      try {
        if (messageTs) await client.chat.update({ ...args, ts: messageTs });
        else await client.chat.postMessage({ ...args, thread_ts: threadTs });
      } catch (error) {
        logger.warn({ err: error, channel }, 'could not post the result in the thread; is @switchboard in the channel?');
      }
    },
  };
}
