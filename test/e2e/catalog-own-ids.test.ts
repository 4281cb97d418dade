import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

let t: TestSwitchboard;

beforeAll(async () => {
  t = await startTestSwitchboard({
    catalogYaml: [
      'version: 1',
      'services:',
      '  api-gateway:',
      '    name: Gateway',
      '    health: []',
      '    restart: { kind: supervisor, url: "http://127.0.0.1:9/RPC2", programs: [api] }',
    ].join('\n'),
  });
});

afterAll(async () => {
  await t?.close();
});

describe('catalog ids typed in /ops are the catalog\'s own', () => {
  it.each(['restart constructor', 'restart toString', 'health constructor', 'health hasOwnProperty', 'backup constructor', 'circuit reset constructor', 'db connections valueOf'])(
    '`/ops %s` names no service, asks no confirmation and runs nothing',
    async (text) => {
      const res = await t.slash(text);
      expect(res.status).toBe(200);
      const word = text.split(' ').at(-1)!;
      expect(JSON.parse(res.body).text).toContain(`There is no service \`${word}\``);
      const confirmations = await t.switchboard.db.query('SELECT id FROM confirmations');
      expect(confirmations.rows).toEqual([]);
      const ran = await t.switchboard.db.query(`SELECT ref FROM runs WHERE status <> 'refused'`);
      expect(ran.rows).toEqual([]);
    },
  );

  it('a flag named after an inherited property is not a flag', async () => {
    const res = await t.slash('restart api-gateway --constructor');
    expect(JSON.parse(res.body).text).toContain('`--constructor` is not a flag');
  });
});
