import { z } from 'zod';

/**
 * Catalog ids are what chat input may select; they never start with "-" and hold no shell or
 * path syntax. A module of its own, so every schema the catalog imports can use it without a cycle.
 */
export const CatalogId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lowercase letters, digits, "-" and "_" (at most 63, not starting with "-")');

/** Action ids as the registry names them: `service.restart`. */
export const ActionId = z.string().regex(/^[a-z]+\.[a-z-]+$/, 'must be an action id such as service.restart');

export const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U012AB3CD (profile → ⋮ → Copy member ID)');
export const SlackUsergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id such as S0614TZR7');
