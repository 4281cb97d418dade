import type { Catalog, PermissionName } from '../config/catalog-schema.js';
import type { Actor, AnyAction } from './action.js';

export type AuthorizationDecision = { allowed: true } | { allowed: false; missing: PermissionName; roles: string[] };

/** Decides whether an actor may run an action on its input. */
export type Authorizer = (actor: Actor, action: AnyAction, input: unknown) => Promise<AuthorizationDecision>;

/** Who is in a Slack user group (usergroups.users.list), cached by the implementation. */
export interface UsergroupDirectory {
  members(usergroupId: string): Promise<readonly string[]>;
}

// Each permission includes the ones below it: an admin may operate, an operator may read.
const LADDER: readonly PermissionName[] = ['read', 'operate', 'admin'];
const covers = (granted: PermissionName, needed: PermissionName) => LADDER.indexOf(granted) >= LADDER.indexOf(needed);

export const allowEveryone: Authorizer = async () => ({ allowed: true });

/** The permission an action needs on its target: the action's own, unless the service overrides it. */
export function requiredPermission(catalog: Catalog, action: AnyAction, input: unknown): PermissionName {
  const target = action.target(input);
  const service = target && Object.hasOwn(catalog.services, target) ? catalog.services[target] : undefined;
  return service?.permissions?.[action.id] ?? action.permission;
}

/**
 * Roles from the catalog: a user holds a role when listed by id or through one of its user
 * groups. With no roles at all, everyone may do everything (the catalog check says so loudly).
 */
export function createCatalogAuthorizer(catalog: Catalog, directory: UsergroupDirectory | undefined): Authorizer {
  const roles = Object.entries(catalog.roles);
  if (roles.length === 0) return allowEveryone;
  return async (actor, action, input) => {
    if (actor.kind === 'automation') return { allowed: true };
    const needed = requiredPermission(catalog, action, input);
    const granting = roles.filter(([, role]) => role.permissions.some((p) => covers(p, needed)));
    for (const [, role] of granting) {
      if (role.users.includes(actor.id)) return { allowed: true };
    }
    for (const [, role] of granting) {
      for (const group of role.usergroups) {
        const members = directory ? await directory.members(group).catch(() => []) : [];
        if (members.includes(actor.id)) return { allowed: true };
      }
    }
    return { allowed: false, missing: needed, roles: granting.map(([id]) => id) };
  };
}
