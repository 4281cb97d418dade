import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allActions } from '../../src/commands/actions/index.js';
import { renderHelp, renderVerbHelp, usage } from '../../src/commands/help.js';
import { createRegistry } from '../../src/commands/registry.js';

const registry = createRegistry(allActions);
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/help.txt', import.meta.url));

/** `/ops help`, then `/ops help <verb>` for every verb, as Slack receives them. */
function allHelp(): string {
  const parts = [renderHelp(registry).text, ...registry.slashActions().map((a) => renderVerbHelp(a).text)];
  return `${parts.join('\n\n---\n\n')}\n`;
}

describe('help generated from the registry', () => {
  it('matches its golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
    const text = allHelp();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    if (!existsSync(GOLDEN)) throw new Error(`no golden file ${GOLDEN}: run UPDATE_GOLDEN=1 npx vitest run test/unit/help.test.ts and review it`);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('has no bare < or >, which Slack would read as a link and show without its brackets', () => {
    expect(allHelp()).not.toMatch(/[<>]/);
    expect(allHelp()).toContain('`/ops restart &lt;service&gt;`');
  });

  it('names the permission of every command next to it', () => {
    const help = renderHelp(registry).text.split('\n');
    for (const action of registry.slashActions()) {
      const at = help.findIndex((l) => l.startsWith(`• \`/ops ${usage(action.slash!)}\` — `));
      expect(at, action.id).toBeGreaterThan(0);
      const heading = help.slice(0, at).reverse().find((l) => l.startsWith('*Needs'));
      expect(heading, action.id).toBe(`*Needs the \`${action.permission}\` permission:*`);
      expect(renderVerbHelp(action).text).toContain(`Needs the \`${action.permission}\` permission.`);
    }
  });

  it('ends every sentence, so lines shown side by side do not run together', () => {
    for (const action of registry.slashActions()) {
      const [first, second] = renderVerbHelp(action).text.split('\n');
      expect(first, action.id).toMatch(/[.!?…]$/);
      expect(second, action.id).toMatch(/^Needs .*\.$/);
    }
  });
});
