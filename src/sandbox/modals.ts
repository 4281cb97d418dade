import type { RecordedCall } from './fake-slack.js';

/** A modal the bot opened with `views.open` for someone's click. */
export interface OpenModal {
  id: string;
  user: string;
  triggerId: string;
  view: Record<string, unknown>;
}

// Slack's trigger_id is good for 3 seconds.
const TRIGGER_LIFETIME_MS = 3_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Trigger ids handed out with clicks, and the modals the bot opened with them. */
export function createModalDesk(onChange: () => void) {
  const triggers = new Map<string, { user: string; at: number }>();
  const modals = new Map<string, OpenModal>();

  return {
    /** Remembers who a trigger id was given to, so the modal opened with it shows to that person. */
    trigger(triggerId: string, user: string): void {
      const now = Date.now();
      for (const [id, t] of triggers) if (now - t.at > TRIGGER_LIFETIME_MS) triggers.delete(id);
      triggers.set(triggerId, { user, at: now });
    },
    /** Called for every Web API call; keeps the modals opened with a live trigger id. */
    observe(call: RecordedCall): void {
      if (call.method !== 'views.open' || call.response.ok !== true) return;
      const triggerId = typeof call.args.trigger_id === 'string' ? call.args.trigger_id : '';
      const trigger = triggers.get(triggerId);
      const view = call.response.view;
      if (!trigger || Date.now() - trigger.at > TRIGGER_LIFETIME_MS || !isObject(view) || typeof view.id !== 'string') return;
      triggers.delete(triggerId);
      modals.set(view.id, { id: view.id, user: trigger.user, triggerId, view });
      onChange();
    },
    forUser: (user: string): OpenModal | undefined => [...modals.values()].reverse().find((m) => m.user === user),
    get: (id: string): OpenModal | undefined => modals.get(id),
    close(id: string): void {
      if (modals.delete(id)) onChange();
    },
  };
}

export type ModalDesk = ReturnType<typeof createModalDesk>;

/**
 * `view.state.values` as Slack builds it from what was entered: `values[block_id][action_id]`
 * for each input block, shaped per element type. Entries the view does not have are ignored.
 */
export function submissionValues(view: Record<string, unknown>, entered: Record<string, string | undefined>): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  for (const block of blocks) {
    if (!isObject(block) || block.type !== 'input' || typeof block.block_id !== 'string' || !isObject(block.element)) continue;
    const element = block.element;
    const actionId = typeof element.action_id === 'string' ? element.action_id : 'value';
    const raw = entered[`${block.block_id}.${actionId}`];
    const text = raw === undefined || raw === '' ? null : raw;
    if (element.type === 'static_select') {
      const options = Array.isArray(element.options) ? element.options.filter(isObject) : [];
      const selected = options.find((o) => o.value === text) ?? null;
      values[block.block_id] = { [actionId]: { type: 'static_select', selected_option: selected } };
    } else {
      values[block.block_id] = { [actionId]: { type: String(element.type ?? 'plain_text_input'), value: text } };
    }
  }
  return values;
}
