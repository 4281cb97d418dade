/**
 * Slack's documented Block Kit limits, as a pure validator the fake Web API uses to
 * refuse what Slack would refuse. Sources (checked 2025): docs.slack.dev/reference/block-kit/blocks
 * (50 blocks per message, 100 per modal) and the field docs that Slack ships in `@slack/types` 3.2
 * (block-kit/blocks.d.ts, block-elements.d.ts, composition-objects.d.ts, views.d.ts).
 */

export const BLOCK_KIT_LIMITS = Object.freeze({
  messageBlocks: 50,
  modalBlocks: 100,
  /** Not an error at Slack: longer `text` is truncated and posted with a `message_truncated` warning. */
  messageText: 40_000,
  blockId: 255,
  actionId: 255,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  contextElements: 10,
  /** A text object anywhere (context elements included): docs.slack.dev, composition objects, text object. */
  textObject: 3_000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2_000,
  buttonUrl: 3_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3_000,
  callbackId: 255,
});

export type Surface = 'message' | 'modal';

/** One refusal, located by a JSON pointer into the request arguments (`/blocks/3/text/text`). */
export interface BlockKitProblem {
  pointer: string;
  message: string;
}

/** Slack's wording inside `errors`: `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`. */
export const formatProblem = (p: BlockKitProblem): string => `${p.message} [json-pointer:${p.pointer}]`;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: BlockKitProblem[] = [];
  private readonly blockIds = new Set<string>();

  add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  maxLength(value: unknown, max: number, pointer: string, min = 0): void {
    if (value === undefined) return;
    if (typeof value !== 'string') return this.add(pointer, 'must be a string');
    if (value.length > max) this.add(pointer, `must be less than ${max + 1} characters`);
    if (value.length < min) this.add(pointer, `must be more than ${min - 1} characters`);
  }

  /** A text object's `text`, e.g. a header's `{type:'plain_text', text}`; `plainOnly` where Slack takes no mrkdwn. */
  textObject(obj: unknown, max: number, pointer: string, min = 0, plainOnly = false): void {
    if (obj === undefined) return;
    if (!isObject(obj)) return this.add(pointer, 'must be a text object');
    if (obj.type !== 'plain_text' && (plainOnly || obj.type !== 'mrkdwn')) {
      this.add(`${pointer}/type`, plainOnly ? 'must be plain_text' : 'must be one of plain_text, mrkdwn');
    }
    this.maxLength(obj.text, max, `${pointer}/text`, min);
  }

  maxItems(value: unknown, max: number, pointer: string): value is unknown[] {
    if (value === undefined) return false;
    if (!Array.isArray(value)) {
      this.add(pointer, 'must be an array');
      return false;
    }
    if (value.length > max) this.add(pointer, `no more than ${max} items allowed`);
    return true;
  }

  blocks(blocks: unknown, surface: Surface, pointer: string): void {
    const max = surface === 'modal' ? BLOCK_KIT_LIMITS.modalBlocks : BLOCK_KIT_LIMITS.messageBlocks;
    if (!this.maxItems(blocks, max, pointer)) return;
    (blocks as unknown[]).forEach((b, i) => this.block(b, `${pointer}/${i}`));
  }

  private block(block: unknown, pointer: string): void {
    if (!isObject(block) || typeof block.type !== 'string') return this.add(pointer, 'must be a block object with a type');
    if (block.block_id !== undefined) {
      this.maxLength(block.block_id, BLOCK_KIT_LIMITS.blockId, `${pointer}/block_id`);
      if (typeof block.block_id === 'string') {
        if (this.blockIds.has(block.block_id)) this.add(`${pointer}/block_id`, `duplicate block_id '${block.block_id}'`);
        this.blockIds.add(block.block_id);
      }
    }
    switch (block.type) {
      case 'section':
        this.section(block, pointer);
        break;
      case 'header':
        this.textObject(block.text, BLOCK_KIT_LIMITS.headerText, `${pointer}/text`, 1, true);
        break;
      case 'context':
        if (this.maxItems(block.elements, BLOCK_KIT_LIMITS.contextElements, `${pointer}/elements`)) {
          (block.elements as unknown[]).forEach((el, i) => {
            // Images have no text; every other context element is a text object.
            if (isObject(el) && el.type === 'image') return;
            this.textObject(el, BLOCK_KIT_LIMITS.textObject, `${pointer}/elements/${i}`, 1);
          });
        }
        break;
      case 'actions':
        if (this.maxItems(block.elements, BLOCK_KIT_LIMITS.actionsElements, `${pointer}/elements`)) {
          this.elements(block.elements as unknown[], `${pointer}/elements`);
        }
        break;
      case 'input':
        if (isObject(block.element)) this.elements([block.element], `${pointer}/element`, false);
        break;
      default:
        break;
    }
  }

  private section(block: Json, pointer: string): void {
    if (block.text === undefined && block.fields === undefined) this.add(pointer, 'must provide text or fields');
    this.textObject(block.text, BLOCK_KIT_LIMITS.sectionText, `${pointer}/text`, 1);
    if (this.maxItems(block.fields, BLOCK_KIT_LIMITS.sectionFields, `${pointer}/fields`)) {
      (block.fields as unknown[]).forEach((f, i) =>
        this.textObject(f, BLOCK_KIT_LIMITS.sectionFieldText, `${pointer}/fields/${i}`, 1),
      );
    }
    if (isObject(block.accessory)) this.elements([block.accessory], `${pointer}/accessory`, false);
  }

  /** Slack documents `action_id` as unique among the action_ids of its containing block. */
  private elements(elements: unknown[], pointer: string, indexed = true): void {
    const actionIds = new Set<string>();
    elements.forEach((el, i) => {
      const at = indexed ? `${pointer}/${i}` : pointer;
      if (!isObject(el)) return this.add(at, 'must be an element object');
      if (el.action_id !== undefined) {
        this.maxLength(el.action_id, BLOCK_KIT_LIMITS.actionId, `${at}/action_id`);
        if (typeof el.action_id === 'string') {
          if (actionIds.has(el.action_id)) this.add(`${at}/action_id`, `duplicate action_id '${el.action_id}'`);
          actionIds.add(el.action_id);
        }
      }
      if (el.type === 'button') {
        this.textObject(el.text, BLOCK_KIT_LIMITS.buttonText, `${at}/text`, 1, true);
        this.maxLength(el.value, BLOCK_KIT_LIMITS.buttonValue, `${at}/value`);
        this.maxLength(el.url, BLOCK_KIT_LIMITS.buttonUrl, `${at}/url`);
      }
      if (el.confirm !== undefined) this.confirm(el.confirm, `${at}/confirm`);
    });
  }

  private confirm(confirm: unknown, pointer: string): void {
    if (!isObject(confirm)) return this.add(pointer, 'must be a confirmation dialog object');
    this.textObject(confirm.title, BLOCK_KIT_LIMITS.confirmTitle, `${pointer}/title`, 1, true);
    this.textObject(confirm.text, BLOCK_KIT_LIMITS.confirmText, `${pointer}/text`, 1);
    this.textObject(confirm.confirm, BLOCK_KIT_LIMITS.confirmButton, `${pointer}/confirm`, 1, true);
    this.textObject(confirm.deny, BLOCK_KIT_LIMITS.confirmButton, `${pointer}/deny`, 1, true);
  }
}

/** Problems Slack would answer `invalid_blocks` for in a message's `blocks` (chat.postMessage, chat.update, chat.postEphemeral). */
export function validateMessageBlocks(blocks: unknown): BlockKitProblem[] {
  const c = new Checker();
  if (blocks !== undefined) c.blocks(blocks, 'message', '/blocks');
  return c.problems;
}

/** Problems Slack would refuse in a modal `view` (views.open). */
export function validateModalView(view: unknown): BlockKitProblem[] {
  const c = new Checker();
  if (!isObject(view)) {
    c.add('/view', 'must be a view object');
    return c.problems;
  }
  c.blocks(view.blocks ?? [], 'modal', '/view/blocks');
  if (view.type === 'modal') {
    c.textObject(view.title, BLOCK_KIT_LIMITS.modalTitle, '/view/title', 1);
    c.textObject(view.submit, BLOCK_KIT_LIMITS.modalButton, '/view/submit');
    c.textObject(view.close, BLOCK_KIT_LIMITS.modalButton, '/view/close');
  }
  c.maxLength(view.private_metadata, BLOCK_KIT_LIMITS.privateMetadata, '/view/private_metadata');
  c.maxLength(view.callback_id, BLOCK_KIT_LIMITS.callbackId, '/view/callback_id');
  return c.problems;
}

/**
 * Every problem of a whole message as the renderers produce it: its blocks, and a fallback
 * `text` over 40,000 characters (which Slack cuts when posting and refuses in an edit,
 * `msg_too_long`). Tests check renderers with this; the fake Web API answers with the codes.
 */
export function validateMessage(message: { text?: unknown; blocks?: unknown }): BlockKitProblem[] {
  const problems = validateMessageBlocks(message.blocks);
  if (typeof message.text === 'string' && message.text.length > BLOCK_KIT_LIMITS.messageText) {
    problems.push({ pointer: '/text', message: `must be less than ${BLOCK_KIT_LIMITS.messageText + 1} characters` });
  }
  if (message.blocks === undefined && (typeof message.text !== 'string' || message.text.length === 0)) problems.push({ pointer: '/text', message: 'no_text' });
  return problems;
}

/** Slack keeps the first 40,000 characters of a message's `text` and warns `message_truncated`. */
export function truncateMessageText(text: string): { text: string; truncated: boolean } {
  return text.length > BLOCK_KIT_LIMITS.messageText
    ? { text: text.slice(0, BLOCK_KIT_LIMITS.messageText), truncated: true }
    : { text, truncated: false };
}
