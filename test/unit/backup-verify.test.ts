import { describe, expect, it } from 'vitest';
import { lastLines, scrub } from '../../src/integrations/backup/scrub.js';
import { endsWithCompletionLine } from '../../src/integrations/postgres/backup-verify.js';

describe('endsWithCompletionLine', () => {
  it('accepts what pg_dump writes last, before and after the \\unrestrict fix', () => {
    expect(endsWithCompletionLine('COPY ...\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n')).toBe(true);
    expect(endsWithCompletionLine('--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict ZQrb1u8Lr2z2QbCbAU10GeINSBobD6V\n\n')).toBe(true);
  });

  it('rejects a script that stops early or goes on after the comment', () => {
    expect(endsWithCompletionLine('CREATE TABLE t (\n  id integer')).toBe(false);
    expect(endsWithCompletionLine('-- PostgreSQL database dump complete\n--\nDROP TABLE t;\n')).toBe(false);
    expect(endsWithCompletionLine('')).toBe(false);
  });
});

describe('scrub and lastLines', () => {
  it('removes the password, raw and URL-encoded, and URL credentials', () => {
    const text = 'pg_dump: error: password "p@ss:w0rd" rejected for postgres://backup:p%40ss%3Aw0rd@h/db';
    expect(scrub(text, ['p@ss:w0rd'])).toBe('pg_dump: error: password "***" rejected for postgres://backup:***@h/db');
  });

  it('keeps the last non-empty lines', () => {
    expect(lastLines('a\n\nb\n c \nd\ne\nf\n', 3)).toBe('d\ne\nf');
    expect(lastLines('\n  \n')).toBe('(no output)');
  });
});
