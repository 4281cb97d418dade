import { z } from 'zod';
import type { FakeSlack } from './fake-slack.js';
import { submissionValues, type ModalDesk } from './modals.js';
import type { ResponseInbox } from './response-inbox.js';
import { blockActionsPayload, interactionBody, newTriggerId, signSlackRequest, slashCommandBody, viewSubmissionPayload, type SandboxUser } from './slack-payloads.js';

/** What the page asks for; the sandbox turns each into the request Slack would send. */
export const ClickRequest = z.object({ channel: z.string().min(1).max(100), ts: z.string().max(40).optional(), note: z.string().max(40).optional(), blockId: z.string().max(255), actionId: z.string().max(255) });
export const CommandRequest = z.object({ channel: z.string().min(1).max(100), text: z.string().max(4_000) });
export const SubmitRequest = z.object({ viewId: z.string().max(40), values: z.record(z.string().max(600), z.string().max(3_000)) });

export type Outcome = { ok: true; errors?: Record<string, string> } | { ok: false; error: string };

// Slack gives up on a request after 3 seconds.
const SLACK_TIMEOUT_MS = 3_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const channelName = (channel: string) => channel.replace(/^#/, '');

/**
 * The sandbox's stand-in for Slack's client side: builds the signed slash command, block_actions
 * and view_submission requests Slack would send and posts them to the bot's real `/slack/events`.
 */
export function createSandboxActions(deps: { fake: FakeSlack; inbox: ResponseInbox; modals: ModalDesk; signingSecret: string; token: string; botUrl: () => string }) {
  const { fake, inbox, modals } = deps;
  // The bot posts answers here like any client: it carries the sandbox's token too.
  const responseUrl = (id: string) => `${deps.botUrl()}/sandbox/response?id=${id}&token=${encodeURIComponent(deps.token)}`;

  async function send(rawBody: string): Promise<{ status: number; body: string } | { error: string }> {
    try {
      const res = await fetch(`${deps.botUrl()}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...signSlackRequest(rawBody, deps.signingSecret) },
        body: rawBody,
        signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
      });
      return { status: res.status, body: await res.text() };
    } catch (error) {
      return { error: error instanceof Error && error.name === 'TimeoutError' ? 'operation_timeout' : 'dispatch_failed' };
    }
  }

  return {
    async command(user: SandboxUser, request: z.output<typeof CommandRequest>): Promise<Outcome> {
      const command = `/ops ${request.text}`.trim();
      const id = inbox.open({ channel: request.channel, user: user.id, command });
      const triggerId = newTriggerId();
      modals.trigger(triggerId, user.id);
      const body = slashCommandBody({ text: request.text, user, channelId: request.channel, channelName: channelName(request.channel), responseUrl: responseUrl(id), triggerId });
      const answer = await send(body);
      const failure = 'error' in answer ? answer.error : answer.status !== 200 ? `http_${answer.status}` : undefined;
      if (failure) {
        // What Slack shows the person when the app does not answer a command properly.
        inbox.respond(id, { text: `${command} failed with the error "${failure}"` }, { ack: true });
        return { ok: false, error: failure };
      }
      if ('body' in answer && answer.body.trim()) inbox.respond(id, parseAck(answer.body), { ack: true });
      return { ok: true };
    },

    async click(user: SandboxUser, request: z.output<typeof ClickRequest>): Promise<Outcome> {
      const note = request.note ? inbox.note(request.note) : undefined;
      if (request.note && (!note || (note.ephemeral && note.user !== user.id))) return { ok: false, error: 'That message is gone.' };
      const stored = note ? undefined : request.ts ? fake.message(request.channel, request.ts) : undefined;
      const message = note ? { type: 'message', ts: note.ts, text: note.text, blocks: note.blocks, ...(note.threadTs ? { thread_ts: note.threadTs } : {}) } : stored;
      if (!message) return { ok: false, error: 'That message is gone.' };
      const found = findElement(message.blocks, request.blockId, request.actionId);
      if (!found) return { ok: false, error: 'That button is no longer on the message.' };
      // Answers to a click on a thread reply stay in that thread.
      const threadTs = message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : undefined;
      const id = inbox.open({ channel: request.channel, user: user.id, ...(threadTs ? { threadTs } : {}), ...(note?.ephemeral ? { target: note.id } : {}), ...(note?.command ? { command: note.command } : {}) });
      const triggerId = newTriggerId();
      modals.trigger(triggerId, user.id);
      const payload = blockActionsPayload({
        user,
        channelId: request.channel,
        channelName: channelName(request.channel),
        message: message as Record<string, unknown> & { ts: string },
        isEphemeral: note?.ephemeral ?? false,
        blockId: found.blockId,
        element: found.element,
        responseUrl: responseUrl(id),
        triggerId,
      });
      const answer = await send(interactionBody(payload));
      if ('error' in answer) return { ok: false, error: answer.error };
      return answer.status === 200 ? { ok: true } : { ok: false, error: `http_${answer.status}` };
    },

    async submit(user: SandboxUser, request: z.output<typeof SubmitRequest>): Promise<Outcome> {
      const modal = modals.get(request.viewId);
      if (!modal || modal.user !== user.id) return { ok: false, error: 'That dialog is closed.' };
      const payload = viewSubmissionPayload({ user, view: modal.view, values: submissionValues(modal.view, request.values), triggerId: newTriggerId() });
      const answer = await send(interactionBody(payload));
      if ('error' in answer) return { ok: false, error: answer.error };
      if (answer.status !== 200) return { ok: false, error: `http_${answer.status}` };
      const ack = answer.body.trim() ? parseAck(answer.body) : {};
      if (ack.response_action === 'errors' && isObject(ack.errors)) {
        return { ok: true, errors: Object.fromEntries(Object.entries(ack.errors).map(([k, v]) => [k, String(v)])) };
      }
      modals.close(modal.id);
      return { ok: true };
    },
  };
}

/** An acknowledgement's body: JSON, or plain text, which Slack shows as the message text. */
function parseAck(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : { text: String(parsed) };
  } catch {
    return { text: body };
  }
}

/**
 * The interactive element `actionId` in block `blockId` (an actions block, or a section's
 * accessory). A block the bot sent without a block_id is named `@<index>` by the page; Slack
 * gives such blocks an id of its own, and so does the sandbox.
 */
function findElement(blocks: unknown, blockId: string, actionId: string): { blockId: string; element: Record<string, unknown> } | undefined {
  if (!Array.isArray(blocks)) return undefined;
  const index = /^@(\d{1,3})$/.exec(blockId)?.[1];
  const block: unknown = index !== undefined ? blocks[Number(index)] : blocks.find((b) => isObject(b) && b.block_id === blockId);
  if (!isObject(block) || (index !== undefined && block.block_id !== undefined)) return undefined;
  const candidates: unknown[] = block.type === 'actions' && Array.isArray(block.elements) ? block.elements : [block.accessory];
  const element = candidates.find((e): e is Record<string, unknown> => isObject(e) && e.action_id === actionId);
  return element ? { blockId: index !== undefined ? `sandbox-${index}` : blockId, element } : undefined;
}
