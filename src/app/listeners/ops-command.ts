import type { App, RespondArguments } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Catalog } from '../../config/catalog-schema.js';
import type { Dispatcher } from '../../commands/dispatch.js';
import type { Registry } from '../../commands/registry.js';
import type { Reply } from '../../commands/reply.js';
import { resolveOpsCommand } from '../../commands/resolve-ops-command.js';
import { escapeMrkdwn } from '../../commands/reply.js';

const toResponse = (reply: Reply): RespondArguments => ({
  response_type: reply.public ? 'in_channel' : 'ephemeral',
  text: reply.text,
  ...(reply.blocks ? { blocks: reply.blocks } : {}),
});

/** `/ops …`: answered at once when no action runs, otherwise acknowledged and answered through `response_url`. */
export function registerOpsCommand(app: App, deps: { registry: Registry; catalog: Catalog; dispatcher: Dispatcher; logger: Logger }): void {
  app.command('/ops', async ({ command, ack, respond }) => {
    const resolution = resolveOpsCommand(command.text, deps.registry, deps.catalog);
    if (resolution.kind === 'reply') {
      await ack(toResponse(resolution.reply));
      return;
    }
    await ack({ response_type: 'ephemeral', text: `⏳ Running \`${escapeMrkdwn(resolution.display)}\`…` });
    const result = await deps.dispatcher.dispatch({
      actionId: resolution.action.id,
      input: resolution.input,
      actor: { id: command.user_id, name: command.user_name, kind: 'user' },
      origin: 'slash',
    });
    try {
      await respond({ ...toResponse(result.reply), replace_original: !result.reply.public });
    } catch (error) {
      deps.logger.warn({ err: error, ref: result.ref }, 'could not answer through response_url (it expires after 30 minutes and 5 uses)');
    }
  });
}
