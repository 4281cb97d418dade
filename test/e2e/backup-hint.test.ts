import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTempDatabase } from '../helpers/temp-database.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';
import { requires } from '../helpers/requires.js';

/**
 * `/ops backups <service>` with nothing recorded suggests how to start one; every command it
 * suggests must run. A service with two backups (dried-fruits: database and script) refuses a
 * bare `/ops backup dried-fruits`, so the hint names each target.
 */
let t: TestSwitchboard;
let appDb: Awaited<ReturnType<typeof createTempDatabase>>;
let backupDir: string;

beforeAll(async () => {
  appDb = await createTempDatabase('sb_hint');
  backupDir = await mkdtemp(join(tmpdir(), 'switchboard-hint-backups-'));
  t = await startTestSwitchboard({
    catalogYaml: `
version: 1
services:
  dried-fruits:
    name: Dried Fruits Inventory
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:9/health" }
    backups:
      - { name: database, kind: postgres, url: "${appDb.url}", folder: "${backupDir}/dried-fruits", format: plain }
      - { name: script, kind: command, argv: [/bin/echo, "uploads archived"] }
  brownie-metadata:
    name: Brownie Metadata API
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:9/health" }
    backups:
      - { name: database, kind: postgres, url: "${appDb.url}", folder: "${backupDir}/brownie" }
  company-extraction:
    name: Company Extraction
    health:
      - { name: api, kind: http, url: "http://127.0.0.1:9/health" }
`,
  });
});

afterAll(async () => {
  await t?.close();
  await appDb?.drop();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

let n = 0;
async function answer(text: string): Promise<string> {
  const id = `hint${++n}`;
  await t.slash(text, { responseId: id });
  const reply = await t.responses.waitFor((r) => r.path.endsWith(`/${id}`) && !/^⏳|Running/.test(r.body.text ?? ''), 60_000);
  return reply.body.text ?? '';
}

const suggested = (text: string) => [...text.matchAll(/`\/ops (backup [^`]+)`/g)].map((m) => m[1]!);

requires('pg_dump')('the hint of an empty backup list', () => {
  it('names each target of a service with several backups, and each named command runs', async () => {
    const list = await answer('backups dried-fruits');
    expect(list).toContain('No backups of `dried-fruits` recorded yet.');
    const commands = suggested(list);
    expect(commands).toEqual(['backup dried-fruits database', 'backup dried-fruits script']);
    for (const command of commands) expect(await answer(command), command).toMatch(/✓ Backup `(database|script)` of `dried-fruits` done/);
  });

  it('names the bare command for a single backup, and it runs', async () => {
    const commands = suggested(await answer('backups brownie-metadata'));
    expect(commands).toEqual(['backup brownie-metadata']);
    expect(await answer(commands[0]!)).toMatch(/✓ Backup `database` of `brownie-metadata` done/);
  });

  it('suggests no command for a service without backups, and says where they are configured', async () => {
    const list = await answer('backups company-extraction');
    expect(suggested(list)).toEqual([]);
    expect(list).toContain('no backups configured');
  });
});
