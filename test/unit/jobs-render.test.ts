import { describe, expect, it } from 'vitest';
import { renderCertificateReport } from '../../src/jobs/certificate-check-job.js';
import { sections } from '../../src/jobs/job.js';

const textOf = (block: unknown) => (block as { text: { text: string } }).text.text;

describe('sections', () => {
  it('keeps a short report in one section', () => {
    expect(sections('a\nb')).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'a\nb' } }]);
  });

  it('splits a long report on line breaks, each section within Slack’s 3,000 characters', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `✓ \`service-${i}\` — ${'x'.repeat(40)}`);
    const blocks = sections(lines.join('\n'));
    expect(blocks.length).toBeGreaterThan(1);
    for (const block of blocks) expect(textOf(block).length).toBeLessThanOrEqual(3_000);
    expect(blocks.map(textOf).join('\n')).toBe(lines.join('\n'));
  });

  it('cuts a single overlong line and caps the number of sections', () => {
    expect(textOf(sections('y'.repeat(5_000))[0]).length).toBe(2_900);
    const blocks = sections(Array.from({ length: 100 }, () => 'z'.repeat(2_000)).join('\n'), 10);
    expect(blocks).toHaveLength(10);
    expect(textOf(blocks[9])).toBe('…and 91 more sections; the full list is in the log.');
  });
});

describe('renderCertificateReport', () => {
  it('escapes check text and counts findings', () => {
    expect(renderCertificateReport([{ service: 'api', check: 'cert', status: 'warn', underDays: 7, text: 'expires 2026-01-20 (4 days); untrusted: <self-signed>' }])).toBe(
      '*1 certificate needs attention*\n⚠ `api` cert: under 7 days, expires 2026-01-20 (4 days); untrusted: &lt;self-signed&gt;',
    );
  });
});
