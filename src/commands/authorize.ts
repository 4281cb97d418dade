import type { PermissionName } from '../config/catalog-schema.js';
import type { Actor, AnyAction } from './action.js';

export type AuthorizationDecision = { allowed: true } | { allowed: false; missing: PermissionName };

/** Decides whether an actor may run an action on its input. */
export type Authorizer = (actor: Actor, action: AnyAction, input: unknown) => Promise<AuthorizationDecision>;

// TODO(#3): roles from the catalog, user groups through usergroups.users.list, per-service overrides.
export const allowEveryone: Authorizer = async () => ({ allowed: true });
