import { describe, expect, it } from 'vitest';
import { codeSpan, escapeAlertText, mentionUser, mrkdwnLink, safeUrl, slackDate, truncateText } from '../../src/alerts/mrkdwn.js';

const ZWJ = '\u200D';

describe('escapeAlertText', () => {
  it.each<[string, string]>([
    ['plain text', 'plain text'],
    ['a & b < c > d', 'a &amp; b &lt; c &gt; d'],
    ['already &amp; escaped', 'already &amp;amp; escaped'],
    ['<!channel> wake up', '&lt;!channel&gt; wake up'],
    ['<!here|here>', '&lt;!here|here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['ping <@U123ABC>', `ping &lt;@${ZWJ}U123ABC&gt;`],
    ['<@W123|boss>', `&lt;@${ZWJ}W123|boss&gt;`],
    ['see <#C0123|general>', 'see &lt;#C0123|general&gt;'],
    ['<!subteam^S0614TZR7>', '&lt;!subteam^S0614TZR7&gt;'],
    ['<https://evil.example|click here>', '&lt;https://evil.example|click here&gt;'],
    ['<!date^1392734382^{date}|x>', '&lt;!date^1392734382^{date}|x&gt;'],
    ['@here and @channel and @everyone', `@${ZWJ}here and @${ZWJ}channel and @${ZWJ}everyone`],
    ['@Here @CHANNEL', `@${ZWJ}Here @${ZWJ}CHANNEL`],
    ['＠here', `＠${ZWJ}here`],
    ['mail ops@example.com', `mail ops@${ZWJ}example.com`],
    ['a lone @ sign', 'a lone @ sign'],
    ['*bold* _it_ ~s~ `code`', '*bold* _it_ ~s~ `code`'],
    ['line1\r\nline2\rline3', 'line1\nline2\nline3'],
    ['tab\there', 'tab here'],
    ['nul\u0000bell\u0007esc\u001b[31mdel\u007f', 'nulbellesc[31mdel'],
    ['c1\u0085\u009b', 'c1'],
    ['bidi \u202Eevil\u202C \u2066x\u2069 \u200Fy', 'bidi evil x y'],
    ['lone \uD800 surrogate \uDC00', 'lone \uFFFD surrogate \uFFFD'],
    ['emoji 🔥 and 中文', 'emoji 🔥 and 中文'],
  ])('%j', (input, expected) => {
    expect(escapeAlertText(input, 1_000)).toBe(expected);
  });

  it('leaves no angle bracket that Slack could parse, whatever the input', () => {
    const nasty = '<<!channel>> <@U1> <#C1> <http://a|b> >< &lt;!here&gt; @here';
    const out = escapeAlertText(nasty, 1_000);
    expect(out).not.toMatch(/[<>]/);
    expect(out).not.toMatch(/@(here|channel|everyone)/i);
  });

  it.each<[string, number, string]>([
    ['abcdef', 6, 'abcdef'],
    ['abcdefg', 6, 'abcde…'],
    ['abc', 1, '…'],
    ['abc', 0, ''],
    // Never half an entity: "&amp;" does not fit in 4, so it goes entirely.
    ['ab&cd', 6, 'ab…'],
    ['ab&cd', 8, 'ab&amp;…'],
    // A surrogate pair is one code point: it is kept whole or dropped whole.
    ['🔥🔥🔥', 5, '🔥🔥…'],
    ['🔥🔥🔥', 4, '🔥…'],
    // "@" and its joiner go together.
    ['@here', 2, '…'],
    ['@here', 3, `@${ZWJ}…`],
  ])('%j cut to %i → %j', (input, max, expected) => {
    const out = escapeAlertText(input, max);
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
  });

  it('cuts 10 KB of entities within the limit', () => {
    const out = escapeAlertText('<&>'.repeat(3_500), 3_000);
    expect(out.length).toBeLessThanOrEqual(3_000);
    expect(out.endsWith('…')).toBe(true);
    expect(out.slice(0, -1)).toMatch(/^(&lt;|&amp;|&gt;)+$/);
  });
});

describe('truncateText and codeSpan', () => {
  it('truncates on code points', () => {
    expect(truncateText('Restart api-gateway', 75)).toBe('Restart api-gateway');
    expect(truncateText('x'.repeat(80), 75)).toHaveLength(75);
    expect(truncateText('🔥'.repeat(10), 6)).toBe('🔥🔥…');
  });

  it.each<[string, string]>([
    ['instance=gw-1:5000', '`instance=gw-1:5000`'],
    ['a`b', '`aˋb`'],
    ['```', '`ˋˋˋ`'],
    ['x\ny', '`x y`'],
    ['<!here>', '`&lt;!here&gt;`'],
    ['', '` `'],
  ])('%j → %j', (input, expected) => {
    expect(codeSpan(input, 100)).toBe(expected);
  });
});

describe('safeUrl', () => {
  it.each<[string | undefined, string | undefined]>([
    ['http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1', 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1'],
    ['https://runbooks.example.com/service-down', 'https://runbooks.example.com/service-down'],
    ['HTTPS://Example.COM/a b', 'https://example.com/a%20b'],
    ['https://example.com/a|b', 'https://example.com/a%7Cb'],
    ['https://example.com/?q=<script>', 'https://example.com/?q=%3Cscript%3E'],
    ['https://example.com/x>y', 'https://example.com/x%3Ey'],
    ['javascript:alert(1)', undefined],
    ['JaVaScRiPt:alert(1)', undefined],
    ['data:text/html,<b>x</b>', undefined],
    ['slack://open', undefined],
    ['ftp://example.com/file', undefined],
    ['file:///etc/passwd', undefined],
    ['https://bank.example@evil.example/', undefined],
    ['https://user:secret@example.com/', undefined],
    ['/relative/path', undefined],
    ['not a url', undefined],
    ['', undefined],
    [undefined, undefined],
    [`https://example.com/${'a'.repeat(3_000)}`, undefined],
  ])('%j → %j', (input, expected) => {
    expect(safeUrl(input)).toBe(expected);
  });
});

describe('links, mentions and dates', () => {
  it('escapes & in link URLs and keeps the label out of the URL part', () => {
    expect(mrkdwnLink('http://p:9090/graph?a=1&b=2', 'Source')).toBe('<http://p:9090/graph?a=1&amp;b=2|Source>');
    expect(mrkdwnLink('https://x.example/', 'a|b<c>')).toBe('<https://x.example/|a/b&lt;c&gt;>');
  });

  it.each<[string, string]>([
    ['U012AB3CD', '<@U012AB3CD>'],
    ['W012AB3CD', '<@W012AB3CD>'],
    ['alertmanager', 'alertmanager'],
    ['<!channel>', '&lt;!channel&gt;'],
    ['U1> <!here', 'U1&gt; &lt;!here'],
  ])('mentionUser(%j) → %j', (id, expected) => {
    expect(mentionUser(id)).toBe(expected);
  });

  it('formats dates for every reader, with a UTC fallback', () => {
    expect(slackDate(new Date('2025-03-04T05:06:07.890Z'))).toBe('<!date^1741064767^{date_short_pretty} {time}|2025-03-04 05:06 UTC>');
    expect(slackDate(new Date('2025-03-04T05:06:07Z'), '{time}')).toBe('<!date^1741064767^{time}|2025-03-04 05:06 UTC>');
  });
});
