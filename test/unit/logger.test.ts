import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubText, toSlackLogger } from '../../src/app/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), text: () => lines.join('') };
}

describe('logs never carry secrets', () => {
  it('redacts tokens, signing secrets and passwords in URLs, wherever they appear', () => {
    const { logger, text } = capture();
    logger.info({ token: 'xoxb-123-456-abc', signingSecret: 'shh', config: { password: 'pw1' }, url: 'postgres://app:s3cret@db:5432/x' }, 'connecting with xapp-1-A0-xyz');
    logger.error({ err: new Error('failed for redis://:hunter2@cache:6379 with xoxb-999') }, 'boom');
    toSlackLogger(logger).warn('token xoxp-1-2-3 rejected', { url: 'https://u:p4ss@example.com' });
    const out = text();
    for (const secret of ['xoxb-123-456-abc', 'shh', 'pw1', 's3cret', 'xapp-1-A0-xyz', 'hunter2', 'xoxb-999', 'xoxp-1-2-3', 'p4ss']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('postgres://app:***@db:5432/x');
    expect(out).toContain('"component":"bolt"');
  });

  it('leaves ordinary text alone', () => {
    expect(scrubText('restart api-gateway at http://127.0.0.1:5000/health')).toBe('restart api-gateway at http://127.0.0.1:5000/health');
  });
});
