import type { KnownBlock } from '@slack/types';

/**
 * Slack's limits on what a message or modal may hold (docs.slack.dev, Block Kit reference:
 * blocks, block elements, composition objects; chat.postMessage). Renderers stay within them
 * by construction; {@link fitMessage} is the last guard, so one more field added to a renderer
 * cannot make Slack refuse the whole message (`invalid_blocks`).
 */
export const SLACK_LIMITS = Object.freeze({
  messageBlocks: 50,
  modalBlocks: 100,
  messageText: 40_000,
  sectionText: 3_000,
  contextText: 3_000,
  contextElements: 10,
  sectionFields: 10,
  fieldText: 2_000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2_000,
  url: 3_000,
  id: 255,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
});

const ELLIPSIS = '…';

/**
 * The pieces of mrkdwn that must never be cut: a `<…>` link, mention or date, an `&…;` entity,
 * a code span or block. Between them, text is cut on graphemes (a letter with its combining
 * marks, an emoji with its modifiers and joiners, a flag), as a person sees characters.
 */
const MRKDWN_ATOM = /```[\s\S]*?```|`[^`\n]+`|<[^<>\n]*>|&(?:[a-zA-Z]+|#\d+);/g;
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

function* pieces(text: string, markup: boolean): Generator<string> {
  let at = 0;
  if (markup) {
    for (const match of text.matchAll(MRKDWN_ATOM)) {
      for (const g of graphemes.segment(text.slice(at, match.index))) yield g.segment;
      yield match[0];
      at = match.index + match[0].length;
    }
  }
  for (const g of graphemes.segment(text.slice(at))) yield g.segment;
}

function cutPieces(text: string, max: number, markup: boolean): string {
  if (text.length <= max) return text;
  if (max < ELLIPSIS.length) return '';
  let out = '';
  for (const piece of pieces(text, markup)) {
    // A whole piece or nothing: a link too long for what is left is left out, never cut.
    if (out.length + piece.length + ELLIPSIS.length > max) break;
    out += piece;
  }
  return out.trimEnd() + ELLIPSIS;
}

/**
 * mrkdwn that is already safe (escaped alert text around Switchboard's own markup) cut to
 * `max` UTF-16 units, Slack's way of counting, with `…`: never inside a `<url|label>`, a
 * mention, an `&amp;` entity, a code span or a grapheme, so the cut cannot unescape or break
 * anything.
 */
export function fitMrkdwn(text: string, max: number): string {
  return cutPieces(text, max, true);
}

/** plain_text cut to `max` on a grapheme, with `…`. */
export function fitPlain(text: string, max: number): string {
  return cutPieces(text, max, false);
}

/**
 * A URL for a link of at most `max` characters: itself, or its origin when it is longer (the
 * place is still reachable), or nothing. A URL is never cut: half a URL leads somewhere else.
 */
export function fitUrl(url: string, max: number): string | undefined {
  if (url.length <= max) return url;
  const origin = originOf(url);
  return origin && origin.length <= max ? origin : undefined;
}

/**
 * Links that share one element's budget: each URL gets an equal share (shortened to its origin
 * past it), and a link that still does not fit is left out whole.
 */
export function fitLinks(links: ReadonlyArray<{ url: string; label: string }>, render: (url: string, label: string) => string, separator: string, max: number): string {
  if (links.length === 0) return '';
  const share = Math.floor((max - separator.length * (links.length - 1)) / links.length);
  const parts: string[] = [];
  for (const { url, label } of links) {
    // The rendered link is measured, since rendering may escape the URL (`&` as `&amp;`).
    const part = [url, originOf(url)].flatMap((u) => (u ? [render(u, label)] : [])).find((p) => p.length <= share);
    if (part) parts.push(part);
  }
  return parts.join(separator);
}

function originOf(url: string): string | undefined {
  try {
    return `${new URL(url).origin}/`;
  } catch {
    return undefined;
  }
}

/** Lines joined with `\n` up to `max`, then `more(n)` for the n left out (always within `max`). */
export function fitLines(lines: readonly string[], max: number, more: (left: number) => string): string {
  let text = '';
  let shown = 0;
  for (const line of lines) {
    const next = text ? `${text}\n${line}` : line;
    const left = lines.length - shown - 1;
    const tail = left > 0 ? `\n${more(left)}` : '';
    if (next.length + tail.length > max) break;
    text = next;
    shown++;
  }
  if (shown < lines.length) text = text ? `${text}\n${more(lines.length - shown)}` : more(lines.length);
  return fitMrkdwn(text, max);
}

// --- the last guard -------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fitText(obj: unknown, max: number): unknown {
  if (!isObject(obj) || typeof obj.text !== 'string') return obj;
  const fit = obj.type === 'plain_text' ? fitPlain(obj.text, max) : fitMrkdwn(obj.text, max);
  return { ...obj, text: fit || ' ' };
}

function fitId<T extends Json>(obj: T, key: 'block_id' | 'action_id'): T {
  const id = obj[key];
  if (typeof id !== 'string' || id.length <= SLACK_LIMITS.id) return obj;
  const { [key]: _dropped, ...rest } = obj;
  return rest as T;
}

function fitElement(el: unknown): unknown {
  if (!isObject(el)) return el;
  let out: Json = fitId(el, 'action_id');
  if (out.type === 'button') {
    out = { ...out, text: fitText(out.text, SLACK_LIMITS.buttonText) };
    if (typeof out.url === 'string' && out.url.length > SLACK_LIMITS.url) {
      const url = fitUrl(out.url, SLACK_LIMITS.url);
      out = url ? { ...out, url } : (({ url: _u, ...rest }) => rest)(out);
    }
  }
  if (isObject(out.confirm)) {
    const c = out.confirm;
    out = {
      ...out,
      confirm: {
        ...c,
        title: fitText(c.title, SLACK_LIMITS.confirmTitle),
        text: fitText(c.text, SLACK_LIMITS.confirmText),
        confirm: fitText(c.confirm, SLACK_LIMITS.confirmButton),
        deny: fitText(c.deny, SLACK_LIMITS.confirmButton),
      },
    };
  }
  return out;
}

/** A button whose value does not fit cannot carry what it stands for: it is left out, not cut. */
const valueFits = (el: unknown): boolean => !isObject(el) || typeof el.value !== 'string' || el.value.length <= SLACK_LIMITS.buttonValue;

function fitBlock(block: KnownBlock): KnownBlock | undefined {
  const b = fitId(block as unknown as Json, 'block_id');
  switch (b.type) {
    case 'header':
      return { ...b, text: fitText(b.text, SLACK_LIMITS.headerText) } as unknown as KnownBlock;
    case 'section': {
      const out: Json = { ...b };
      if (b.text !== undefined) out.text = fitText(b.text, SLACK_LIMITS.sectionText);
      if (Array.isArray(b.fields)) out.fields = b.fields.slice(0, SLACK_LIMITS.sectionFields).map((f) => fitText(f, SLACK_LIMITS.fieldText));
      if (isObject(b.accessory)) {
        if (valueFits(b.accessory)) out.accessory = fitElement(b.accessory);
        else delete out.accessory;
      }
      return out as unknown as KnownBlock;
    }
    case 'context': {
      const elements = Array.isArray(b.elements) ? b.elements.slice(0, SLACK_LIMITS.contextElements).map((e) => fitText(e, SLACK_LIMITS.contextText)) : [];
      return elements.length > 0 ? ({ ...b, elements } as unknown as KnownBlock) : undefined;
    }
    case 'actions': {
      const elements = Array.isArray(b.elements) ? b.elements.filter(valueFits).slice(0, SLACK_LIMITS.actionsElements).map(fitElement) : [];
      return elements.length > 0 ? ({ ...b, elements } as unknown as KnownBlock) : undefined;
    }
    default:
      return b as unknown as KnownBlock;
  }
}

/**
 * Every block brought within Slack's limits: texts cut safely ({@link fitMrkdwn}), ids over 255
 * characters dropped (Slack then makes its own), buttons whose value does not fit left out, and
 * at most `maxBlocks` blocks. A renderer that kept its own budgets comes out unchanged.
 */
export function fitBlocks(blocks: readonly KnownBlock[], maxBlocks: number = SLACK_LIMITS.messageBlocks): KnownBlock[] {
  const fitted = blocks.flatMap((b) => fitBlock(b) ?? []);
  return fitted.length <= maxBlocks ? fitted : fitted.slice(0, maxBlocks);
}

/** A message (or reply) within Slack's limits: its fallback text at most 40,000 characters and never empty, its blocks fitted. */
export function fitMessage<M extends { text: string; blocks?: KnownBlock[] | undefined }>(message: M): M {
  const text = fitMrkdwn(message.text, SLACK_LIMITS.messageText) || ' ';
  if (!message.blocks) return text === message.text ? message : { ...message, text };
  return { ...message, text, blocks: fitBlocks(message.blocks) };
}
