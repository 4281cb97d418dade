import type { AnyAction } from './action.js';

/** The one list of actions: `/ops` verbs, buttons and automations all resolve here. */
export interface Registry {
  get(id: string): AnyAction | undefined;
  all(): readonly AnyAction[];
  /** Actions reachable from `/ops`, in help order. */
  slashActions(): readonly AnyAction[];
}

export function createRegistry(actions: readonly AnyAction[]): Registry {
  const byId = new Map<string, AnyAction>();
  const verbs = new Set<string>();
  for (const action of actions) {
    if (byId.has(action.id)) throw new Error(`Action id ${action.id} is registered twice`);
    byId.set(action.id, action);
    if (action.slash) {
      if (verbs.has(action.slash.verb)) throw new Error(`/ops ${action.slash.verb} is bound to two actions`);
      verbs.add(action.slash.verb);
    }
  }
  const list = Object.freeze([...actions]);
  const slash = Object.freeze(list.filter((a) => a.slash));
  return { get: (id) => byId.get(id), all: () => list, slashActions: () => slash };
}
