import { App, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackMode } from '../config/env.js';
import type { Handler } from './http-server.js';
import { toSlackLogger } from './logger.js';

/** The Bolt app and how events reach it: through our HTTP server, or over a Socket Mode websocket. */
export interface SlackConnection {
  app: App;
  /** Present in HTTP mode: serve it at POST /slack/events. */
  eventsHandler?: Handler;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// Slack drops a request not answered within 3 s; Bolt answers for a listener that forgets to ack.
const UNACKED_TIMEOUT_MS = 2_900;
// Slack's own limit for interactive payloads is far below this; anything bigger is not Slack.
export const EVENT_BODY_LIMIT = 1024 * 1024;

export function createSlackConnection(mode: Exclude<SlackMode, { kind: 'offline' }>, logger: Logger): SlackConnection {
  const slackLogger = toSlackLogger(logger);
  const clientOptions = mode.apiUrl ? { slackApiUrl: mode.apiUrl } : {};
  if (mode.kind === 'socket') {
    // Our own receiver: Bolt's SocketModeReceiver.stop() resolves before the socket has closed, and Bolt
    // would hand it the App's clientOptions object, which the socket client mutates (retryConfig of 100
    // retries, meant for apps.connections.open) for the `client` of every listener.
    const receiver = new SocketModeReceiver({ appToken: mode.appToken, logger: slackLogger, installerOptions: { clientOptions: { ...clientOptions } } });
    const app = new App({ token: mode.botToken, receiver, logger: slackLogger, clientOptions });
    return {
      app,
      start: async () => {
        await app.start();
      },
      stop: () => receiver.client.disconnect(),
    };
  }
  const receiver = new HTTPReceiver({
    signingSecret: mode.signingSecret,
    endpoints: '/slack/events',
    logger: slackLogger,
    processBeforeResponse: false,
    unhandledRequestTimeoutMillis: UNACKED_TIMEOUT_MS,
    bodyLimit: EVENT_BODY_LIMIT,
  });
  const app = new App({ token: mode.botToken, receiver, logger: slackLogger, clientOptions });
  return {
    app,
    eventsHandler: (req, res) => receiver.requestListener(req, res),
    // Our HTTP server carries the events; the receiver never listens on its own port.
    start: async () => undefined,
    stop: async () => undefined,
  };
}
