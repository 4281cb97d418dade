import type { WebClient } from '@slack/web-api';
import type { UsergroupDirectory } from '../../commands/authorize.js';

const TTL_MS = 60_000;

/**
 * User group membership from `usergroups.users.list`, cached for a minute: a permission check
 * must not wait on Slack every click, and a removal from a group takes effect within the TTL.
 */
export function createSlackUsergroupDirectory(client: WebClient, now: () => number = Date.now): UsergroupDirectory {
  const cache = new Map<string, { at: number; members: Promise<readonly string[]> }>();
  return {
    members(usergroupId) {
      const hit = cache.get(usergroupId);
      if (hit && now() - hit.at < TTL_MS) return hit.members;
      const members = client.usergroups.users.list({ usergroup: usergroupId }).then((r) => r.users ?? []);
      cache.set(usergroupId, { at: now(), members });
      // A failed lookup is not cached: the next click asks again.
      members.catch(() => cache.delete(usergroupId));
      return members;
    },
  };
}
