import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction, type ActionDeps } from '../../src/commands/action.js';
import { allowEveryone, type Authorizer } from '../../src/commands/authorize.js';
import { createDispatcher } from '../../src/commands/dispatch.js';
import { UserError } from '../../src/commands/errors.js';
import { createRegistry } from '../../src/commands/registry.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { createRunsRepository } from '../../src/store/runs-repository.js';
import { testCatalog } from '../fixtures/catalog.js';

let db: Db;
const logLines: string[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _e, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);
let aborted: unknown;

const base = { risk: 'read', permission: 'read', input: z.object({ service: z.string() }).strict(), target: (i: { service: string }) => i.service } as const;
const actions = [
  defineAction({ ...base, id: 'test.ok', title: 'Say ok', description: 'answers ok', timeoutMs: 1000, run: async ({ input }) => ({ ok: true, summary: `ok ${input.service}`, reply: { text: 'done' } }) }),
  defineAction({ ...base, id: 'test.user-error', title: 'Fail nicely', description: 'fails', timeoutMs: 1000, run: async ({ input }) => { throw new UserError('SERVICE_HAS_NO_CHECKS', { service: input.service }); } }),
  defineAction({ ...base, id: 'test.crash', title: 'Crash', description: 'crashes', timeoutMs: 1000, run: async () => { throw new Error('secret internals'); } }),
  defineAction({
    ...base,
    id: 'test.slow',
    title: 'Be slow',
    description: 'never ends by itself',
    timeoutMs: 300,
    run: ({ signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
          reject(new Error('aborted'));
        });
      }),
  }),
  defineAction({ ...base, id: 'test.linger', title: 'Linger', description: 'takes 400 ms', timeoutMs: 5000, run: async () => { await new Promise((r) => setTimeout(r, 400)); return { ok: true, summary: 'lingered', reply: { text: 'ok' } }; } }),
];

let refs = 0;
function dispatcher(authorize: Authorizer = allowEveryone) {
  return createDispatcher({
    registry: createRegistry(actions),
    deps: { catalog: testCatalog() } as ActionDeps,
    runs: createRunsRepository(db),
    authorize,
    logger,
    newId: () => crypto.randomUUID(),
    newRef: () => `ref${++refs}`,
  });
}
const actor = { id: 'U1', name: 'ana', kind: 'user' as const };
const statusOf = async (ref: string) => (await createRunsRepository(db).byRef(ref))?.status;

beforeAll(async () => {
  db = await createPgliteDb(undefined);
  await migrate(db);
});
afterAll(async () => {
  await db.close();
});

describe('dispatch', () => {
  it('records a successful run with its summary', async () => {
    const result = await dispatcher().dispatch({ actionId: 'test.ok', input: { service: 'api-gateway' }, actor, origin: 'slash' });
    expect(result).toMatchObject({ status: 'succeeded', reply: { text: 'done' } });
    expect(await createRunsRepository(db).byRef(result.ref)).toMatchObject({ status: 'succeeded', summary: 'ok api-gateway', target: 'api-gateway', actorName: 'ana' });
  });

  it('shows a user error as it is, and records it', async () => {
    const result = await dispatcher().dispatch({ actionId: 'test.user-error', input: { service: 'x' }, actor, origin: 'button' });
    expect(result.reply.text).toContain('`x` has no health checks');
    expect(await createRunsRepository(db).byRef(result.ref)).toMatchObject({ status: 'failed', errorCode: 'SERVICE_HAS_NO_CHECKS' });
  });

  it('hides an unexpected error behind a ref that is also in the log', async () => {
    const result = await dispatcher().dispatch({ actionId: 'test.crash', input: { service: 'x' }, actor, origin: 'slash' });
    expect(result.reply.text).toBe(`Something went wrong (ref \`${result.ref}\`). The details are in Switchboard's log under that ref.`);
    expect(result.reply.text).not.toContain('secret internals');
    const line = logLines.find((l) => l.includes(`"ref":"${result.ref}"`) && l.includes('secret internals'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).err.stack).toContain('dispatch.test.ts');
  });

  it('stops a run at its timeout, aborts its signal, and records timed_out', async () => {
    const result = await dispatcher().dispatch({ actionId: 'test.slow', input: { service: 'x' }, actor, origin: 'slash' });
    expect(result.status).toBe('timed_out');
    expect(result.reply.text).toContain('did not finish within 300ms');
    expect(aborted).toBeInstanceOf(Error);
    expect(await statusOf(result.ref)).toBe('timed_out');
  });

  it('records a refusal and names the missing permission', async () => {
    const result = await dispatcher(async () => ({ allowed: false, missing: 'operate', roles: ['oncall'] })).dispatch({ actionId: 'test.ok', input: { service: 'api-gateway' }, actor, origin: 'button' });
    expect(result.status).toBe('refused');
    expect(result.reply.text).toContain('You need the `operate` permission to say ok `api-gateway` (a role such as `oncall`)');
    expect(await statusOf(result.ref)).toBe('refused');
  });

  it('refuses invalid input and unknown actions without running anything', async () => {
    const d = dispatcher();
    const bad = await d.dispatch({ actionId: 'test.ok', input: { service: 'x', extra: '$(id)' }, actor, origin: 'button' });
    expect(bad.status).toBe('invalid');
    expect(bad.reply.text).toContain('not valid');
    const unknown = await d.dispatch({ actionId: 'test.gone', input: {}, actor, origin: 'button' });
    expect(unknown.status).toBe('invalid');
    expect(await statusOf(bad.ref)).toBeUndefined();
  });

  it('drains runs in flight before shutdown', async () => {
    const d = dispatcher();
    const run = d.dispatch({ actionId: 'test.linger', input: { service: 'x' }, actor, origin: 'slash' });
    await new Promise((r) => setTimeout(r, 50));
    await d.drain(5_000);
    const settled = await Promise.race([run, new Promise((r) => setTimeout(() => r('pending'), 10))]);
    expect(settled).toMatchObject({ status: 'succeeded' });
  });
});
