import { describe, expect, it } from 'vitest';
import { USER_ERRORS, UserError, type UserErrorCode } from '../../src/commands/errors.js';

describe('user error catalogue', () => {
  it('gives every code a message that tells the user something to do', () => {
    for (const code of Object.keys(USER_ERRORS) as UserErrorCode[]) {
      const params = new Proxy({}, { get: (_t, key) => `<${String(key)}>` });
      const error = new UserError(code, params as never);
      expect(error.code).toBe(code);
      expect(error.message.length, code).toBeGreaterThan(20);
      expect(error.message, code).not.toContain('undefined');
    }
  });
});
