// The footprint baseline: the least a Bolt app in HTTP mode with a pg pool is, run as plain
// JavaScript like the compiled Switchboard. It answers /readyz once its pool has a connection.
import process from 'node:process';
import bolt from '@slack/bolt';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = new bolt.App({
  token: process.env.SLACK_BOT_TOKEN,
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  tokenVerificationEnabled: false,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  customRoutes: [
    {
      path: '/readyz',
      method: ['GET'],
      handler: async (_req, res) => {
        await pool.query('SELECT 1');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ready"}');
      },
    },
  ],
});
app.command('/ops', async ({ ack }) => ack('ok'));
await app.start(Number(process.env.PORT));
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => void app.stop().then(() => pool.end()).then(() => process.exit(0)));
