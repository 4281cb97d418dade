import { startFakeSlack, type FakeSlack } from '../../test/fakes/fake-slack.js';
import { createTempDatabase } from '../../test/helpers/temp-database.js';
import { startTarget, type Target } from './target.js';

export const BOT_TOKEN = 'xoxb-bench-token';
export const WEBHOOK_TOKEN = 'bench-alertmanager-token-0123456789';

/** The headers Alertmanager sends with `http_config.authorization.credentials`. */
export const WEBHOOK_HEADERS = { 'content-type': 'application/json', 'user-agent': 'Alertmanager/0.28.1', authorization: `Bearer ${WEBHOOK_TOKEN}` };

export interface SwitchboardUnderTest {
  target: Target;
  slack: FakeSlack;
  databaseUrl: string;
  /** Stops everything and drops the database; resolves with the target's counters. */
  close(): Promise<Record<string, number>>;
}

const databases = new Set<{ drop(): Promise<void> }>();

/** Drops every database a run left behind (after Ctrl-C); targets must be killed first. */
export async function dropLeftoverDatabases(): Promise<void> {
  await Promise.all([...databases].map((d) => d.drop().catch(() => undefined)));
  databases.clear();
}

/**
 * A real Switchboard in its own process, on a fresh PostgreSQL database, its outbox sender posting
 * to a fake Slack Web API in this process (Slack is remote in production; here it costs the
 * load generator a little, never the server under test).
 */
export async function startSwitchboardUnderTest(options: { catalogYaml: string; enforceChannelRate?: boolean; logLevel: string; cpuProfileDir?: string; label: string }): Promise<SwitchboardUnderTest> {
  const slack = await startFakeSlack({ token: BOT_TOKEN, enforceChannelRate: options.enforceChannelRate ?? false });
  let database: Awaited<ReturnType<typeof createTempDatabase>> | undefined;
  try {
    database = await createTempDatabase('sb_bench');
    databases.add(database);
    const target = await startTarget(
      'switchboard-server',
      {
        env: {
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789',
          SLACK_API_URL: slack.url,
          DATABASE_URL: database.url,
          ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
          PORT: '0',
          LOG_LEVEL: options.logLevel,
        },
        catalogYaml: options.catalogYaml,
      },
      { label: options.label, ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}) },
    );
    const db = database;
    return {
      target,
      slack,
      databaseUrl: db.url,
      async close() {
        const stats = await target.stop();
        await slack.close();
        await db.drop();
        databases.delete(db);
        return stats;
      },
    };
  } catch (error) {
    await slack.close();
    if (database) {
      await database.drop();
      databases.delete(database);
    }
    throw error;
  }
}
