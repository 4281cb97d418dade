import { describe, expect, it } from 'vitest';
import { parseOpsCommand } from '../../src/commands/parse-ops-command.js';

const words = (text: string) => {
  const result = parseOpsCommand(text);
  if (!result.ok) throw new Error(result.error);
  return result.command;
};

describe('parseOpsCommand', () => {
  it.each([
    ['', [], {}],
    ['   ', [], {}],
    ['health', ['health'], {}],
    ['  health   api-gateway  ', ['health', 'api-gateway'], {}],
    ['restart "api gateway"', ['restart', 'api gateway'], {}],
    ["restart 'api gateway'", ['restart', 'api gateway'], {}],
    ['silence api-gateway 4h “deploy in progress”', ['silence', 'api-gateway', '4h', 'deploy in progress'], {}],
    ['silence svc ‘it’s fine’', ['silence', 'svc', 'it’s fine'], {}],
    ['note don’t panic', ['note', 'don’t', 'panic'], {}],
    ['x --comment="a b"', ['x'], { comment: 'a b' }],
    ['note "" x', ['note', '', 'x'], {}],
    ['say caf\u0065\u0301 ☕ 火事', ['say', 'café', '☕', '火事'], {}],
    ['backup brownie --target database', ['backup', 'brownie'], { target: 'database' }],
    ['backup brownie --target=database --dry-run', ['backup', 'brownie'], { target: 'database', 'dry-run': true }],
    ['silence x --comment "two words" --for=4h', ['silence', 'x'], { comment: 'two words', for: '4h' }],
    ['ack 12 "--not-a-flag"', ['ack', '12', '--not-a-flag'], {}],
    ['ack -- 12', ['ack', '--', '12'], {}],
    ['x --A value', ['x'], { a: 'value' }],
    ['/ops help', ['help'], {}],
    ['  /OPS restart api-gateway', ['restart', 'api-gateway'], {}],
    ['/ops', [], {}],
    ['note /ops is typed twice', ['note', '/ops', 'is', 'typed', 'twice'], {}],
    ['"/ops" help', ['/ops', 'help'], {}],
  ])('%j', (text, expectedWords, expectedFlags) => {
    const parsed = words(text);
    expect(parsed.words).toEqual(expectedWords);
    expect(parsed.flags).toEqual(expectedFlags);
  });

  it('treats a flag followed by another flag as a switch', () => {
    expect(words('backup x --dry-run --target db').flags).toEqual({ 'dry-run': true, target: 'db' });
  });

  it.each([
    ['restart "api', 'never closed'],
    ['x --a 1 --a 2', 'given twice'],
    ['x --$(id) 1', 'not a valid flag name'],
    ['x --', undefined],
  ])('rejects %j', (text, message) => {
    const result = parseOpsCommand(text);
    if (message === undefined) {
      expect(result.ok).toBe(true);
      return;
    }
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});
