/** `/ops restart "api gateway" --reason 'deploy stuck'` → words and flags. */
export interface ParsedCommand {
  words: string[];
  flags: Record<string, string | true>;
}

export type ParseResult = { ok: true; command: ParsedCommand } | { ok: false; error: string };

// Slack clients on macOS and iOS turn straight quotes into typographic ones.
const OPEN_CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’', '„': '“' };
const FLAG_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** The closing quote: preferably one that ends a word, so `‘it’s fine’` reads as one argument. */
function findClose(chars: string[], from: number, closers: string[]): number {
  let first = -1;
  for (let j = from; j < chars.length; j++) {
    if (!closers.includes(chars[j]!)) continue;
    if (first === -1) first = j;
    const next = chars[j + 1];
    if (next === undefined || /\s/u.test(next)) return j;
  }
  return first;
}

function tokenize(text: string): { tokens: { value: string; quoted: boolean }[] } | { error: string } {
  const tokens: { value: string; quoted: boolean }[] = [];
  const chars = Array.from(text.normalize('NFC'));
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i]!;
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    let value = '';
    let quoted = false;
    while (i < chars.length && !/\s/u.test(chars[i]!)) {
      const c = chars[i]!;
      const close = OPEN_CLOSE[c];
      // A quote opens only at the start of a word or after "=", so apostrophes inside words stay literal.
      const opens = close !== undefined && (value === '' || value.endsWith('='));
      if (opens) {
        // Only a word that begins with a quote is literal; `--flag="a b"` is still a flag.
        if (value === '') quoted = true;
        const stop = findClose(chars, i + 1, close === '”' ? ['”', '"'] : [close]);
        if (stop === -1) return { error: `The quote ${c} is never closed; close it or remove it.` };
        value += chars.slice(i + 1, stop).join('');
        i = stop + 1;
      } else {
        value += c;
        i++;
      }
    }
    tokens.push({ value, quoted });
  }
  return { tokens };
}

export function parseOpsCommand(text: string): ParseResult {
  const tokenized = tokenize(text);
  if ('error' in tokenized) return { ok: false, error: tokenized.error };
  const words: string[] = [];
  const flags: Record<string, string | true> = {};
  // People copy `/ops help` from the README into a box that already says /ops; the command name is not a verb.
  const tokens = tokenized.tokens[0]?.quoted === false && tokenized.tokens[0].value.toLowerCase() === '/ops' ? tokenized.tokens.slice(1) : tokenized.tokens;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.quoted || !token.value.startsWith('--') || token.value === '--') {
      words.push(token.value);
      continue;
    }
    const body = token.value.slice(2);
    const eq = body.indexOf('=');
    const name = (eq === -1 ? body : body.slice(0, eq)).toLowerCase();
    if (!FLAG_NAME.test(name)) return { ok: false, error: `\`--${name}\` is not a valid flag name.` };
    if (Object.hasOwn(flags, name)) return { ok: false, error: `\`--${name}\` is given twice.` };
    if (eq !== -1) {
      flags[name] = body.slice(eq + 1);
      continue;
    }
    const next = tokens[i + 1];
    if (next && (next.quoted || !next.value.startsWith('--'))) {
      flags[name] = next.value;
      i++;
    } else {
      flags[name] = true;
    }
  }
  return { ok: true, command: { words, flags } };
}
