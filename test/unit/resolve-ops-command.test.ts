import { describe, expect, it } from 'vitest';
import { allActions } from '../../src/commands/actions/index.js';
import { createRegistry } from '../../src/commands/registry.js';
import { resolveOpsCommand } from '../../src/commands/resolve-ops-command.js';
import { testCatalog } from '../fixtures/catalog.js';

const registry = createRegistry(allActions);
const catalog = testCatalog();
const resolve = (text: string) => resolveOpsCommand(text, registry, catalog);
const replyText = (text: string) => {
  const r = resolve(text);
  if (r.kind !== 'reply') throw new Error(`expected a reply for ${text}`);
  return r.reply.text;
};

describe('resolveOpsCommand', () => {
  it('maps a verb and its arguments to an action input', () => {
    const r = resolve('health api-gateway');
    expect(r).toMatchObject({ kind: 'dispatch', input: { service: 'api-gateway' } });
    if (r.kind === 'dispatch') expect(r.action.id).toBe('service.health');
  });

  it('accepts an optional argument left out', () => {
    expect(resolve('health')).toMatchObject({ kind: 'dispatch', input: {} });
  });

  it('matches two-word verbs and maps flags to camelCase input keys', () => {
    const r = resolve('circuit reset api-gateway upstream');
    expect(r).toMatchObject({ kind: 'dispatch', input: { service: 'api-gateway', breaker: 'upstream' } });
    if (r.kind === 'dispatch') expect(r.action.id).toBe('circuit.reset');
    expect(resolve('db long-queries api-gateway --older-than 5m')).toMatchObject({ kind: 'dispatch', input: { service: 'api-gateway', olderThan: '5m' } });
  });

  it('lists the sub-commands of a verb family', () => {
    expect(replyText('circuit')).toMatch(/circuit reset &lt;service&gt; \[breaker\].*circuit status &lt;service&gt;|circuit status &lt;service&gt;.*circuit reset/s);
  });

  it('suggests the closest verb for a typo', () => {
    expect(replyText('helth api-gateway')).toContain('Did you mean `health`');
  });

  it('suggests the closest service for a typo', () => {
    expect(replyText('health api-gatway')).toMatch(/no service `api-gatway`.*Did you mean `api-gateway`/);
  });

  it('refuses arguments that look like options, extra arguments and unknown flags', () => {
    expect(replyText('circuit reset api-gateway "-rf"')).toContain('cannot start with "-"');
    expect(replyText('health api-gateway extra')).toContain('Too many arguments');
    expect(replyText('health api-gateway --server=x')).toContain('`--server` is not a flag of `/ops health`');
    expect(replyText('circuit reset')).toContain('Missing &lt;service&gt;');
  });

  it('never lets injection text through as a service', () => {
    for (const evil of ['; rm -rf /', '$(id)', '`id`', '../../etc/passwd', 'a\nb', '--server=x']) {
      const r = resolve(`health "${evil}"`);
      expect(r.kind).toBe('reply');
    }
  });

  it('answers help, help for a verb, and help for an unknown verb', () => {
    expect(replyText('')).toContain('/ops health [service]');
    expect(replyText('help')).toContain('/ops circuit reset &lt;service&gt; [breaker]');
    expect(replyText('help')).toContain('/ops db long-queries &lt;service&gt; [--older-than …]');
    expect(replyText('help circuit reset')).toContain('Needs the `operate` permission (destructive: asks to confirm)');
    expect(replyText('help health')).toContain('/ops health api-gateway');
    expect(replyText('help frobnicate')).toContain('not an /ops command');
  });

  it('explains an unclosed quote', () => {
    expect(replyText('health "api')).toContain('never closed');
  });
});
