import type { Catalog } from '../config/catalog-schema.js';
import type { AnyAction } from './action.js';
import { UserError, type UserErrorCode } from './errors.js';
import { renderHelp, renderVerbHelp, usage } from './help.js';
import { parseOpsCommand } from './parse-ops-command.js';
import type { Registry } from './registry.js';
import { escapeMrkdwn, type Reply } from './reply.js';
import { didYouMean } from './suggest.js';

/** What `/ops …` text turns into: an immediate answer, or an action to dispatch. */
export type Resolution =
  | { kind: 'reply'; reply: Reply; refused?: { code: UserErrorCode; actionId?: string } }
  | { kind: 'dispatch'; action: AnyAction; input: Record<string, unknown>; display: string };

const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function findBinding(registry: Registry, words: string[]): { action: AnyAction; consumed: number } | undefined {
  let best: { action: AnyAction; consumed: number } | undefined;
  for (const action of registry.slashActions()) {
    const verbWords = action.slash!.verb.split(' ');
    const matches = verbWords.every((w, i) => words[i]?.toLowerCase() === w);
    if (matches && (!best || verbWords.length > best.consumed)) best = { action, consumed: verbWords.length };
  }
  return best;
}

function usageError(action: AnyAction, problem: string): Resolution {
  return { kind: 'reply', reply: { text: new UserError('COMMAND_USAGE', { problem, usage: usage(action.slash!) }).message }, refused: { code: 'COMMAND_USAGE', actionId: action.id } };
}

export function resolveOpsCommand(text: string, registry: Registry, catalog: Catalog): Resolution {
  const parsed = parseOpsCommand(text);
  if (!parsed.ok) return { kind: 'reply', reply: { text: new UserError('COMMAND_UNPARSABLE', { reason: parsed.error }).message }, refused: { code: 'COMMAND_UNPARSABLE' } };
  const { words, flags } = parsed.command;
  if (words.length === 0 || words[0]!.toLowerCase() === 'help') {
    const topic = words.slice(1).join(' ').toLowerCase();
    if (!topic) return { kind: 'reply', reply: renderHelp(registry) };
    const match = findBinding(registry, words.slice(1)) ?? findBinding(registry, topic.split(' ').slice(0, 1));
    if (match) return { kind: 'reply', reply: renderVerbHelp(match.action) };
    return { kind: 'reply', reply: { text: new UserError('COMMAND_UNKNOWN', { verb: topic, hint: didYouMean(topic, verbs(registry)) }).message } };
  }

  const match = findBinding(registry, words);
  if (!match) {
    const verb = words[0]!;
    const family = registry.slashActions().filter((a) => a.slash!.verb.startsWith(`${verb.toLowerCase()} `));
    if (family.length > 0) {
      const choices = family.map((a) => `\`/ops ${usage(a.slash!)}\``).join(', ');
      return { kind: 'reply', reply: { text: `\`/ops ${verb}\` needs one of: ${choices}.` } };
    }
    return { kind: 'reply', reply: { text: new UserError('COMMAND_UNKNOWN', { verb, hint: didYouMean(verb, verbs(registry)) }).message }, refused: { code: 'COMMAND_UNKNOWN' } };
  }

  const { action, consumed } = match;
  const binding = action.slash!;
  const args = words.slice(consumed);
  const input: Record<string, unknown> = {};
  const last = binding.args[binding.args.length - 1];
  if (last?.rest && args.length > binding.args.length) {
    args.splice(binding.args.length - 1, args.length, args.slice(binding.args.length - 1).join(' '));
  }
  if (args.length > binding.args.length) return usageError(action, `Too many arguments (\`${args.slice(binding.args.length).join(' ')}\`).`);
  for (const [index, spec] of binding.args.entries()) {
    const value = args[index];
    if (value === undefined) {
      if (!spec.optional) return usageError(action, `Missing &lt;${spec.name}&gt;.`);
      continue;
    }
    // Chat text never becomes an option of a program or a path: only catalog ids and plain words pass.
    if (value.startsWith('-') && !spec.rest) return usageError(action, `&lt;${spec.name}&gt; cannot start with "-".`);
    if (spec.kind === 'service' && !Object.hasOwn(catalog.services, value)) {
      const error = new UserError('SERVICE_NOT_FOUND', { service: value, hint: didYouMean(value, Object.keys(catalog.services)) });
      return { kind: 'reply', reply: { text: error.message }, refused: { code: 'SERVICE_NOT_FOUND', actionId: action.id } };
    }
    input[camel(spec.name)] = value;
  }
  for (const [name, value] of Object.entries(flags)) {
    if (!binding.flags || !Object.hasOwn(binding.flags, name)) {
      const known = Object.keys(binding.flags ?? {});
      return usageError(action, `\`--${name}\` is not a flag of \`/ops ${binding.verb}\`.${didYouMean(name, known)}`);
    }
    input[camel(name)] = value;
  }
  // Checked here too, so a bad argument is answered in the acknowledgement rather than after "Running…".
  const checked = action.input.safeParse(input);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `&lt;${String(i.path[0] ?? 'input')}&gt; ${escapeMrkdwn(i.message)}`).join('; ');
    return usageError(action, `${problems}.`);
  }
  return { kind: 'dispatch', action, input, display: `/ops ${text.trim()}` };
}

const verbs = (registry: Registry) => [...new Set(registry.slashActions().map((a) => a.slash!.verb.split(' ')[0]!))];
