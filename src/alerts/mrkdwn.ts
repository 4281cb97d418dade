/**
 * Text from alerts (labels, annotations, silence ids) is written by whoever controls a
 * Prometheus rule or an exporter: it is untrusted. These helpers make it display as text in
 * Slack mrkdwn and never ping, link or inject markup; Switchboard's own markup (mentions of
 * catalog targets, dates, links it built) is added around the escaped text, never inside it.
 */

/** U+200D ZERO WIDTH JOINER: invisible, and breaks `@here` so Slack no longer sees a mention. */
const ZWJ = '\u200D';
const ELLIPSIS = '…';

/**
 * C0/C1 controls except tab and newline, DEL, and the bidirectional overrides and isolates
 * that can make a label read differently from what it is ("Trojan Source").
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes what Slack would refuse or show misleadingly: controls, bidi overrides, lone surrogates. */
export function stripControl(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(CONTROL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Untrusted text as mrkdwn (or plain_text) that displays as typed and is at most `maxLength`
 * UTF-16 units long, Slack's way of counting:
 * - `&`, `<`, `>` become entities, so `<!channel>`, `<@U123>`, `<#C1>`, `<!subteam^S1>` and
 *   `<https://evil|click>` are shown, not parsed;
 * - `@` before a letter gets a zero-width joiner, so `@here`, `@channel`, `@everyone` and
 *   `@name` never notify anybody;
 * - controls are stripped, and the text is cut on a code point (never inside an entity) with `…`.
 * Formatting characters (`*`, `_`, `~`, `` ` ``) are left alone: at worst they style the text.
 */
export function escapeAlertText(text: string, maxLength: number): string {
  const cleaned = stripControl(text);
  const pieces: string[] = [];
  let length = 0;
  let complete = true;
  const codePoints = Array.from(cleaned);
  for (let i = 0; i < codePoints.length; i++) {
    const piece = escapeCodePoint(codePoints[i]!, codePoints[i + 1]);
    if (length + piece.length > maxLength) {
      complete = false;
      break;
    }
    pieces.push(piece);
    length += piece.length;
  }
  if (complete) return pieces.join('');
  // Make room for the ellipsis by dropping whole pieces, so no entity is ever cut in half.
  while (pieces.length > 0 && length + ELLIPSIS.length > maxLength) length -= pieces.pop()!.length;
  return maxLength >= ELLIPSIS.length ? pieces.join('') + ELLIPSIS : '';
}

function escapeCodePoint(c: string, next: string | undefined): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '@':
    case '\uFF20': // FULLWIDTH COMMERCIAL AT
      return next !== undefined && /^[\p{L}\p{N}]/u.test(next) ? `${c}${ZWJ}` : c;
    default:
      return c;
  }
}

/** Trusted text (catalog names, Switchboard's words) cut to `maxLength` on a code point, with `…`. */
export function truncateText(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let out = '';
  for (const c of text) {
    if (out.length + c.length + ELLIPSIS.length > maxLength) break;
    out += c;
  }
  return maxLength >= ELLIPSIS.length ? out + ELLIPSIS : '';
}

/**
 * Untrusted text as an inline code span: escaped like {@link escapeAlertText}, newlines folded,
 * and backticks replaced by a look-alike so the value cannot close the span.
 */
export function codeSpan(text: string, maxLength: number): string {
  const folded = stripControl(text).replace(/\n+/g, ' ').replace(/`/g, 'ˋ');
  return `\`${escapeAlertText(folded, Math.max(1, maxLength - 2)) || ' '}\``;
}

export const MAX_URL_LENGTH = 3_000;

/**
 * An http(s) URL from an alert, normalized and safe inside `<url|text>`, or undefined.
 * Refused: other schemes (`javascript:`, `data:`, `slack:`), credentials (`https://bank.com@evil`),
 * anything that does not parse, and anything longer than 3,000 characters (Slack's button URL
 * limit). `|` is percent-encoded so it cannot end the URL part of a link.
 */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url || url.length > MAX_URL_LENGTH) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (parsed.username || parsed.password || !parsed.hostname) return undefined;
  // The WHATWG serializer already percent-encodes spaces, quotes, `<` and `>`; `|` it leaves.
  const href = parsed.href.replace(/\|/g, '%7C');
  if (href.length > MAX_URL_LENGTH || /[\s<>|]/.test(href)) return undefined;
  return href;
}

/**
 * A mrkdwn link to a URL checked by {@link safeUrl}; `label` is Switchboard's own words.
 * `&` in the URL is written as `&amp;`, which Slack decodes back.
 */
export function mrkdwnLink(url: string, label: string): string {
  return `<${url.replace(/&/g, '&amp;')}|${escapeAlertText(label.replace(/\|/g, '/'), 200)}>`;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** `<@U…>` for a Slack user id; anything else (an Alertmanager user name, `alertmanager`) as escaped text. */
export function mentionUser(id: string): string {
  return SLACK_USER_ID.test(id) ? `<@${id}>` : escapeAlertText(id, 80);
}

export const isSlackUserId = (id: string): boolean => SLACK_USER_ID.test(id);

/**
 * Slack date formatting: every reader sees `date` in their own time zone; clients that cannot
 * format it show the UTC fallback. `format` uses Slack's tokens (`{date_short_pretty}`, `{time}`).
 */
export function slackDate(date: Date, format = '{date_short_pretty} {time}'): string {
  const seconds = Math.floor(date.getTime() / 1_000);
  const fallback = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${seconds}^${format}|${fallback}>`;
}
