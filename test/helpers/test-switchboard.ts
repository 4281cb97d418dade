import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseEnv } from '../../src/config/env.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { startSwitchboard, type Switchboard, type SwitchboardOptions } from '../../src/app/switchboard.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { startResponseUrlRecorder, type ResponseUrlRecorder } from '../fakes/response-url-recorder.js';
import { blockActionsPayload, interactionBody, postToSlack, slashCommandBody, type SlackPostResult } from './slack-requests.js';
import { createTempDatabase } from './temp-database.js';

export const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-token';

export interface TestSwitchboard {
  switchboard: Switchboard;
  slack: FakeSlack;
  responses: ResponseUrlRecorder;
  /** Sends `/ops <text>` signed exactly as Slack does; `responseId` names its response_url. */
  slash(text: string, options?: { userId?: string; responseId?: string; channelId?: string }): Promise<SlackPostResult>;
  /** Clicks a button signed exactly as Slack sends block_actions; `responseId` names its response_url. */
  click(button: { actionId: string; value: string; userId?: string; responseId?: string; channelId?: string; messageTs?: string }): Promise<SlackPostResult>;
  close(): Promise<void>;
}

/**
 * A Switchboard in HTTP mode on an ephemeral port, with a fresh PostgreSQL database (or PGlite in a
 * temporary folder when `store: 'pglite'`, never the app's own ./.data), a fake Slack Web API and a
 * response_url recorder.
 */
export async function startTestSwitchboard(options: {
  catalogYaml: string;
  store?: 'postgres' | 'pglite';
  env?: Record<string, string>;
  overrides?: Pick<SwitchboardOptions, 'deps' | 'authorize' | 'now' | 'logger'>;
}): Promise<TestSwitchboard> {
  const slack = await startFakeSlack({ token: BOT_TOKEN });
  const responses = await startResponseUrlRecorder();
  const database = options.store === 'pglite' ? undefined : await createTempDatabase('sb_e2e');
  const dataDir = options.store === 'pglite' ? await mkdtemp(join(tmpdir(), 'switchboard-pglite-')) : undefined;
  const env = parseEnv({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(dataDir ? { SWITCHBOARD_DATA_DIR: dataDir } : {}),
    ...options.env,
  });
  const catalog = parseCatalog(options.catalogYaml, 'test-catalog.yml', process.env);
  const logger = pino({ level: env.LOG_LEVEL });
  const switchboard = await startSwitchboard({ env, catalog, logger, ...options.overrides });
  let counter = 0;
  return {
    switchboard,
    slack,
    responses,
    slash(text, opts = {}) {
      const body = slashCommandBody({
        text,
        user_id: opts.userId ?? 'U0OPERATOR',
        channel_id: opts.channelId ?? 'C0OPS',
        response_url: responses.url(opts.responseId ?? `r${++counter}`),
      });
      return postToSlack(switchboard.url, '/slack/events', body, SIGNING_SECRET);
    },
    click(button) {
      const payload = blockActionsPayload({
        actionId: button.actionId,
        value: button.value,
        userId: button.userId ?? 'U0OPERATOR',
        channelId: button.channelId ?? 'C0OPS',
        messageTs: button.messageTs ?? '1795300000.000100',
        responseUrl: responses.url(button.responseId ?? `b${++counter}`),
      });
      return postToSlack(switchboard.url, '/slack/events', interactionBody(payload), SIGNING_SECRET);
    },
    async close() {
      await switchboard.stop(2_000);
      await Promise.all([slack.close(), responses.close()]);
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
