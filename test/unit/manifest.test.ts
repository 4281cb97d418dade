import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allActions } from '../../src/commands/actions/index.js';
import { renderHelp } from '../../src/commands/help.js';
import { createRegistry } from '../../src/commands/registry.js';
import { BOT_SCOPES } from '../../src/app/slack-scopes.js';

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));
const registry = createRegistry(allActions);
const verbs = [...new Set(registry.slashActions().map((a) => a.slash!.verb.split(' ')[0]!))];

describe('manifest.yml, registry and help agree', () => {
  it('declares /ops on the events endpoint, and interactivity on the same endpoint', () => {
    const commands = manifest.features.slash_commands;
    expect(commands.map((c: { command: string }) => c.command)).toEqual(['/ops']);
    expect(new URL(commands[0].url).pathname).toBe('/slack/events');
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe('/slack/events');
  });

  it('names every verb of the registry in the usage hint, and no other', () => {
    const hinted = (manifest.features.slash_commands[0].usage_hint as string).split(' | ').map((part) => part.trim().split(' ')[0]);
    expect(hinted.filter((v) => v !== 'help').sort()).toEqual([...verbs].sort());
  });

  it('lists every slash action in /ops help', () => {
    const help = renderHelp(registry).text;
    for (const action of registry.slashActions()) expect(help).toContain(`/ops ${action.slash!.verb}`);
  });

  it('asks for exactly the scopes the bot uses', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(Object.keys(BOT_SCOPES).sort());
  });

  it('gives every action a stable dotted id and every slash verb a description', () => {
    for (const action of registry.all()) {
      expect(action.id).toMatch(/^[a-z]+\.[a-z-]+$/);
      expect(action.description.length).toBeGreaterThan(10);
    }
  });
});
