import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Route } from '../app/http-server.js';
import type { Catalog } from '../config/catalog-schema.js';
import type { Env } from '../config/env.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { createModalDesk } from './modals.js';
import { createResponseInbox } from './response-inbox.js';
import { createSandboxActions } from './sandbox-actions.js';
import { sandboxRoutes } from './sandbox-routes.js';
import { buildSandboxView } from './sandbox-view.js';
import type { SandboxUser } from './slack-payloads.js';

/** Slack without Slack: the fake Web API the tests use, in this process, and a page that shows and drives it. */
export interface Sandbox {
  /** `env` for HTTP mode against the fake: a bot token, a generated signing secret and SLACK_API_URL. */
  env(env: Env): Env;
  fake: FakeSlack;
  /** The secret in the page's URL; every sandbox request must carry it. */
  token: string;
  /** Where the page is, with its token: what the start log prints. */
  pageUrl(port: number): string;
  /** The page and its endpoints, served by the bot's own server at `botUrl`. */
  routes(botUrl: () => string): Route[];
  close(): Promise<void>;
}

export const SANDBOX_USER: SandboxUser = Object.freeze({ id: 'U0SANDBOX1', name: 'you' });
/** Where `/ops` is typed when the catalog routes alerts nowhere yet. */
const DEFAULT_CHANNEL = '#ops';
// A sandbox left running for days should not keep every Web API call it ever answered.
const MAX_RECORDED_CALLS = 2_000;

export async function startSandbox(options: { catalog: Catalog }): Promise<Sandbox> {
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const fake = await startFakeSlack({ token: botToken, maxCalls: MAX_RECORDED_CALLS });
  const signingSecret = randomBytes(32).toString('hex');
  const token = randomBytes(24).toString('base64url');
  const page = await readFile(new URL('./page.html', import.meta.url), 'utf8');
  fake.users.set(SANDBOX_USER.id, { name: SANDBOX_USER.name, tz: Intl.DateTimeFormat().resolvedOptions().timeZone });

  let version = 1;
  const changed = () => void (version += 1);
  const inbox = createResponseInbox(changed);
  const modals = createModalDesk(changed);
  const dmUsers = new Map<string, string>();
  const stopObserving = fake.onCall((call) => {
    changed();
    modals.observe(call);
    const { args, response } = call;
    if (call.method === 'conversations.open' && typeof args.users === 'string' && !args.users.includes(',')) {
      const channel = (response.channel as { id?: unknown } | undefined)?.id;
      if (typeof channel === 'string') dmUsers.set(channel, args.users.trim());
    }
    if (call.method === 'chat.postEphemeral' && response.ok === true && typeof args.channel === 'string' && typeof args.user === 'string') {
      inbox.ephemeral({
        channel: args.channel,
        user: args.user,
        text: typeof args.text === 'string' ? args.text : '',
        ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
        ...(typeof args.thread_ts === 'string' ? { threadTs: args.thread_ts } : {}),
      });
    }
  });
  const { routes, defaultRoute } = options.catalog;
  const channels = [...routes.map((r) => r.channel), ...(defaultRoute ? [defaultRoute.channel] : [])];
  const knownChannels = channels.length > 0 ? [...new Set(channels)] : [DEFAULT_CHANNEL];

  return {
    env: (env) => ({ ...env, SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: fake.url, SLACK_APP_TOKEN: undefined }),
    fake,
    token,
    pageUrl: (port) => `http://localhost:${port}/sandbox?token=${token}`,
    routes: (botUrl) =>
      sandboxRoutes({
        page,
        token,
        defaultUser: SANDBOX_USER,
        actions: createSandboxActions({ fake, inbox, modals, signingSecret, token, botUrl }),
        version: () => version,
        view: (user) => buildSandboxView({ version, user, fake, notes: inbox.notes(), modal: modals.forUser(user.id), knownChannels, dmUsers }),
        respond: (id, body) => inbox.respond(id, body),
        dismiss: (user, note) => inbox.dismiss(note, user.id),
        closeModal: (user, viewId) => {
          if (modals.get(viewId)?.user === user.id) modals.close(viewId);
        },
      }),
    async close() {
      stopObserving();
      await fake.close();
    },
  };
}
