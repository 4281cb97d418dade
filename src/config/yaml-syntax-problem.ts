import type { YAMLError } from 'yaml';
import { sourceExcerpt, type ConfigProblem } from './problems.js';

interface KeyColumn {
  /** 0-based column where the keys (or the `- ` items) of one open block start. */
  col: number;
  kind: 'key' | 'item';
  /** 1-based line of the last key seen in that column, and the key, for the message. */
  line: number;
  key: string;
  /** The first key under a `key:` line: it sets the column of its mapping, so it may be the one out of place. */
  first?: boolean;
}

interface IndentMistake {
  line: number;
  col: number;
  key: string;
  near: KeyColumn[];
}

const KEY = /^((?:"[^"]*"|'[^']*'|[^\s#'"{[\]-][^:#]*?|-[^\s:#][^:#]*?)):(?:\s|$)/;
const unquote = (key: string) => key.trim().replace(/^["']|["']$/g, '');
const flowBalance = (text: string) => (text.match(/[[{]/g) ?? []).length - (text.match(/[\]}]/g) ?? []).length;

/**
 * Finds the first line up to `lastLine` whose key starts in a column where no open mapping keeps
 * its keys: the usual cause of YAML's "All mapping items must start at the same column" and its
 * cascade of follow-on errors. A heuristic for block YAML as catalogs are written: it skips block
 * scalars and flow collections (`{ … }` over several lines) rather than follow them.
 */
export function findIndentMistake(lines: readonly string[], lastLine: number): IndentMistake | undefined {
  // The document itself is a mapping whose keys start in column 1.
  let stack: KeyColumn[] = [{ col: 0, kind: 'key', line: 0, key: '' }];
  /** The column of the line that opened a block (`key:` or `-` with nothing after): its children go deeper. */
  let opened: number | undefined;
  let scalarIndent: number | undefined;
  let flowDepth = 0;
  for (let index = 0; index < Math.min(lines.length, lastLine); index++) {
    const text = lines[index]!;
    const content = text.trimStart();
    const indent = text.length - content.length;
    if (content === '' || content.startsWith('#')) continue;
    if (scalarIndent !== undefined && indent > scalarIndent) continue;
    scalarIndent = undefined;
    if (flowDepth > 0 || text.startsWith('\t')) {
      flowDepth = Math.max(0, flowDepth + flowBalance(content));
      continue;
    }
    // `- - key:` opens one item per dash; the key, if any, starts after the last dash.
    const dashes: number[] = [];
    let rest = content;
    let keyCol = indent;
    while (/^-(\s|$)/.test(rest)) {
      dashes.push(keyCol);
      const after = rest.slice(1).trimStart();
      keyCol += rest.length - after.length;
      rest = after;
    }
    const key = KEY.exec(rest);
    const fits =
      (opened !== undefined && (dashes.length > 0 ? indent >= opened : indent > opened)) ||
      stack.some((k) => k.col === indent && k.kind === (dashes.length > 0 ? 'item' : 'key'));
    if (!fits) {
      if (!key && dashes.length === 0) continue; // a plain value continued on the next line
      const kind = dashes.length > 0 ? 'item' : 'key';
      const keys = stack.filter((k) => k.kind === kind);
      const below = [...keys].reverse().find((k) => k.col < indent);
      const above = keys.find((k) => k.col > indent);
      const near = [below, above].filter((k): k is KeyColumn => k !== undefined);
      const distance = Math.min(...near.map((k) => Math.abs(k.col - indent)));
      return { line: index + 1, col: indent, key: kind === 'item' ? '-' : unquote(key![1]!), near: near.filter((k) => Math.abs(k.col - indent) === distance).sort((a, b) => b.col - a.col) };
    }
    const first = opened !== undefined && indent > opened && dashes.length === 0;
    stack = stack.filter((k) => k.col < indent || (k.col === indent && k.kind === 'item' && dashes.length > 0));
    for (const col of dashes) if (!stack.some((k) => k.col === col && k.kind === 'item')) stack.push({ col, kind: 'item', line: index + 1, key: '-' });
    opened = undefined;
    if (key) {
      stack.push({ col: keyCol, kind: 'key', line: index + 1, key: unquote(key[1]!), first });
      const value = rest.slice(key[0].length).replace(/(^|\s+)#.*$/, '').trim();
      if (value === '') opened = keyCol;
      else if (/^[|>][+-]?\d*$/.test(value)) scalarIndent = keyCol;
      else flowDepth = Math.max(0, flowBalance(value));
    } else if (rest === '' && dashes.length > 0) {
      opened = dashes[dashes.length - 1];
    } else if (dashes.length === 0) {
      // A bare value under `key:`; if a colon is missing, its siblings below still line up with it.
      stack.push({ col: indent, kind: 'key', line: index + 1, key: rest.split(/\s/)[0]! });
      flowDepth = Math.max(0, flowBalance(rest));
    } else {
      flowDepth = Math.max(0, flowBalance(rest));
    }
  }
  return undefined;
}

function indentMessage(mistake: IndentMistake): string {
  const named = (key: string) => (key === '-' ? 'the `-` item' : `\`${key}:\``);
  const where = (k: KeyColumn) => (k.line === 0 ? 'column 1, as a top-level setting' : `column ${k.col + 1}, in line with ${named(k.key)} on line ${k.line}`);
  const fix = mistake.near.length ? ` Move it to ${mistake.near.map(where).join(', or to ')}.` : ' Move it to the column of the entries it belongs with.';
  // The first key of a mapping sets its column: when that key is the one shifted, its sibling is reported.
  const setter = mistake.near.find((k) => k.first && k.line === mistake.line - 1);
  const orFirst = setter ? ` If line ${setter.line} is the one out of place, move ${named(setter.key)} there to column ${mistake.col + 1} instead.` : '';
  const what = mistake.key === '-' ? 'This `-` item starts at column %, where no list above it keeps its items' : `\`${mistake.key}:\` starts at column %, where no mapping above it keeps its keys`;
  return `${what.replace('%', String(mistake.col + 1))}, so YAML cannot tell what it belongs to.${fix}${orFirst}`;
}

/** YAML's own words, without the position it appends (shown separately) and its code snippet. */
const yamlWords = (error: YAMLError) => (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?\s*$/, '');

/**
 * One problem for a catalog that is not valid YAML. YAML reports one mistake as several errors
 * (the later ones follow from the first), so only the first is explained: its line with a caret,
 * in words an operator can act on, with the likely fix.
 */
export function yamlSyntaxProblem(text: string, errors: readonly YAMLError[], file: string): ConfigProblem {
  const lines = text.split(/\r?\n/);
  const first = errors[0]!;
  const [start, end] = [first.linePos?.[0], first.linePos?.[1] ?? first.linePos?.[0]];
  const problem = (line: number, col: number, message: string): ConfigProblem => ({
    path: '(YAML syntax)',
    message,
    location: `${file}:${line}:${col}`,
    excerpt: sourceExcerpt(lines, line, col),
  });

  if (first.code === 'TAB_AS_INDENT' && start) {
    return problem(start.line, start.col, 'this line is indented with a tab, and YAML allows only spaces. Replace the tab with spaces.');
  }
  if (first.code === 'DUPLICATE_KEY' && start) {
    const key = KEY.exec((lines[start.line - 1] ?? '').trimStart().replace(/^(-\s+)+/, ''))?.[1];
    return problem(start.line, start.col, `${key ? `\`${unquote(key.trim())}\`` : 'this key'} is given twice in the same mapping. Keep one of them.`);
  }
  // YAML often reports the blank line or comment before the key it stumbled on; look up to that key, and the line after it.
  let until = Math.max(start?.line ?? 0, end?.line ?? 0);
  while (until > 0 && until < lines.length && /^\s*(#.*)?$/.test(lines[until - 1]!)) until++;
  const mistake = start ? findIndentMistake(lines, until + 1) : undefined;
  if (mistake) return problem(mistake.line, mistake.col + 1, indentMessage(mistake));
  if (!start) return { path: '(YAML syntax)', message: yamlWords(first) };

  if (first.code === 'MISSING_CHAR' && /quote/i.test(first.message)) {
    const quote = /"/.test(first.message.split('\n')[0]!) ? '"' : "'";
    for (let line = start.line; line > 0; line--) {
      const count = (lines[line - 1] ?? '').split(quote).length - 1;
      if (count % 2 === 1) {
        const col = (lines[line - 1] ?? '').indexOf(quote) + 1;
        return problem(line, col, `this ${quote} quote is never closed, so YAML reads on to the end of the file. Close it at the end of the value.`);
      }
    }
  }
  const content = (lines[start.line - 1] ?? '').trim();
  if ((first.code === 'MULTILINE_IMPLICIT_KEY' || first.code === 'MISSING_CHAR') && content !== '' && !content.includes(':')) {
    return problem(start.line, start.col, `this line is neither \`key: value\` nor a \`- \` list item. Add the colon after the key (\`${content.split(/\s+/)[0]}: …\`).`);
  }
  return problem(start.line, start.col, `${yamlWords(first)}. Check the indentation and the \`key: value\` form of this line and the one above it.`);
}
