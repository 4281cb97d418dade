import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { escapeAlertText, mrkdwnLink } from '../../src/alerts/mrkdwn.js';
import { fitBlocks, fitLines, fitLinks, fitMessage, fitMrkdwn, fitPlain, fitUrl, SLACK_LIMITS } from '../../src/alerts/slack-budget.js';
import { BLOCK_KIT_LIMITS, validateMessage } from '../fakes/block-kit-limits.js';

/** Every prefix of `text` that fitMrkdwn may return, for every budget, ends on a whole piece. */
function everyCut(text: string): string[] {
  return Array.from({ length: text.length + 1 }, (_, max) => fitMrkdwn(text, max));
}

describe('SLACK_LIMITS', () => {
  it('agrees with the limits the fake Slack enforces', () => {
    expect(SLACK_LIMITS).toMatchObject({
      messageBlocks: BLOCK_KIT_LIMITS.messageBlocks,
      modalBlocks: BLOCK_KIT_LIMITS.modalBlocks,
      messageText: BLOCK_KIT_LIMITS.messageText,
      sectionText: BLOCK_KIT_LIMITS.sectionText,
      contextText: BLOCK_KIT_LIMITS.textObject,
      contextElements: BLOCK_KIT_LIMITS.contextElements,
      sectionFields: BLOCK_KIT_LIMITS.sectionFields,
      fieldText: BLOCK_KIT_LIMITS.sectionFieldText,
      headerText: BLOCK_KIT_LIMITS.headerText,
      buttonText: BLOCK_KIT_LIMITS.buttonText,
      buttonValue: BLOCK_KIT_LIMITS.buttonValue,
      id: BLOCK_KIT_LIMITS.blockId,
    });
  });
});

describe('fitMrkdwn', () => {
  it('leaves text within the budget alone', () => {
    expect(fitMrkdwn('*ok* &amp; <https://x.example|x>', 100)).toBe('*ok* &amp; <https://x.example|x>');
  });

  it.each([
    ['an entity', `${escapeAlertText('a & b < c > d', 100)}`, /&(?![a-z]+;)|&[a-z]*$/],
    ['a link', `see ${mrkdwnLink('https://runbooks.example.com/a?b=1&c=2', 'Runbook')} now`, /<[^>]*…|<[^>]*$/],
    ['a mention or date', 'by <@U0ONCALL> at <!date^1741082400^{time}|10:00 UTC> ok', /<[^>]*…|<[^>]*$/],
    ['a code span', 'labels `instance=gw-1:5000` and `job=api`', /^[^`]*(`[^`]*`[^`]*)*`[^`]*$/],
  ])('never cuts inside %s, whatever the budget', (_what, text, broken) => {
    for (const cut of everyCut(text)) {
      expect(cut.length).toBeLessThanOrEqual(text.length);
      expect(cut, cut).not.toMatch(broken);
    }
  });

  it('never cuts a grapheme: astral characters, combining marks, joined emoji', () => {
    const text = '𝒳e\u0301👩🏽‍💻שלום';
    for (const cut of everyCut(text)) {
      expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      const body = cut.replace(/…$/, '');
      expect(text.startsWith(body)).toBe(true);
      expect(['', '𝒳', '𝒳e\u0301', '𝒳e\u0301👩🏽‍💻', '𝒳e\u0301👩🏽‍💻ש', '𝒳e\u0301👩🏽‍💻של', '𝒳e\u0301👩🏽‍💻שלו', text]).toContain(body);
    }
  });

  it('drops a link that does not fit rather than cutting its URL', () => {
    const link = mrkdwnLink(`https://a.example.com/${'x'.repeat(100)}`, 'Source');
    expect(fitMrkdwn(`Links: ${link}`, 50)).toBe('Links:…');
  });
});

describe('fitPlain', () => {
  it('cuts on a grapheme with an ellipsis', () => {
    expect(fitPlain('abcdef', 4)).toBe('abc…');
    expect(fitPlain('ab👩🏽‍💻', 4)).toBe('ab…');
  });
});

describe('fitUrl and fitLinks', () => {
  it('keeps a URL, shortens a long one to its origin, and drops one even that does not fit', () => {
    expect(fitUrl('https://a.example.com/x', 100)).toBe('https://a.example.com/x');
    expect(fitUrl(`https://a.example.com/${'x'.repeat(200)}`, 100)).toBe('https://a.example.com/');
    expect(fitUrl(`https://${'a'.repeat(90)}.example.com/x`, 50)).toBeUndefined();
  });

  it('gives three 2,900-character links one element of at most 3,000 characters, each linking to its origin', () => {
    const links = ['prometheus', 'runbooks', 'alertmanager'].map((host, i) => ({ url: `https://${host}.example.com/${'q&'.repeat(1_450)}`, label: ['Source', 'Runbook', 'Alertmanager'][i]! }));
    const text = fitLinks(links, mrkdwnLink, ' · ', 3_000);
    expect(text).toBe('<https://prometheus.example.com/|Source> · <https://runbooks.example.com/|Runbook> · <https://alertmanager.example.com/|Alertmanager>');
  });

  it('keeps short links whole', () => {
    const text = fitLinks([{ url: 'https://a.example.com/x?a=1&b=2', label: 'Source' }], mrkdwnLink, ' · ', 3_000);
    expect(text).toBe('<https://a.example.com/x?a=1&amp;b=2|Source>');
  });
});

describe('fitLines', () => {
  it('lists what fits and counts the rest within the budget', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(50)}`);
    const text = fitLines(lines, 500, (n) => `_…and ${n} more_`);
    expect(text.length).toBeLessThanOrEqual(500);
    expect(text).toMatch(/_…and \d+ more_$/);
    const shown = text.split('\n').length - 1;
    expect(text).toContain(`…and ${100 - shown} more`);
  });
});

describe('fitMessage and fitBlocks', () => {
  it('brings every field of a message within Slack limits and leaves a valid one unchanged', () => {
    const big = 'x'.repeat(5_000);
    const message = {
      text: big.repeat(10),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: big } },
        { type: 'section', block_id: 'b'.repeat(300), text: { type: 'mrkdwn', text: big }, fields: Array.from({ length: 12 }, () => ({ type: 'mrkdwn', text: big })) },
        { type: 'context', elements: Array.from({ length: 12 }, () => ({ type: 'mrkdwn', text: big })) },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'a', text: { type: 'plain_text', text: big }, value: 'v', confirm: { title: { type: 'plain_text', text: big }, text: { type: 'plain_text', text: big }, confirm: { type: 'plain_text', text: big }, deny: { type: 'plain_text', text: big } } },
            { type: 'button', action_id: 'b', text: { type: 'plain_text', text: 'ok' }, value: big },
          ],
        },
        ...Array.from({ length: 60 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `s${i}` } })),
      ] as KnownBlock[],
    };
    const fitted = fitMessage(message);
    expect(validateMessage(fitted)).toEqual([]);
    expect(fitMessage(fitted)).toEqual(fitted);
    // The button whose value would not fit is left out, never cut.
    expect(JSON.stringify(fitted.blocks)).not.toContain('"action_id":"b"');
  });

  it('keeps at most 100 blocks for a modal', () => {
    const blocks = Array.from({ length: 120 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `s${i}` } }) as KnownBlock);
    expect(fitBlocks(blocks, SLACK_LIMITS.modalBlocks)).toHaveLength(100);
  });
});
