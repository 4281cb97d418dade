import { randomBytes } from 'node:crypto';
import { formatProblem, validateMessageBlocks } from './block-kit-limits.js';

/**
 * A message only the sandbox keeps, because Slack shows it without a Web API message: an
 * ephemeral reply (response_url, `chat.postEphemeral`) or an `in_channel` answer to a command.
 */
export interface SandboxNote {
  id: string;
  channel: string;
  threadTs?: string;
  /** Who sees it when ephemeral; who caused it otherwise. */
  user: string;
  ephemeral: boolean;
  /** Orders notes among the channel's messages, like a Slack ts. */
  ts: string;
  text: string;
  blocks?: unknown[];
  /** The `/ops …` text whose answer this is. */
  command?: string;
}

interface ResponseUrl {
  channel: string;
  threadTs?: string;
  user: string;
  command?: string;
  /** The message `replace_original` / `delete_original` act on. */
  target?: string;
  uses: number;
  expiresAt: number;
}

export type RespondOutcome = { status: 200 } | { status: 400 | 404; error: string; errors?: string[] };

// Slack's limits on a response_url: five uses within thirty minutes.
const MAX_USES = 5;
const LIFETIME_MS = 30 * 60_000;
const MAX_NOTES = 500;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nowTs = (): string => (Date.now() / 1000).toFixed(6);

/** The response_urls the sandbox hands out and the ephemeral and in-channel answers posted to them. */
export function createResponseInbox(onChange: () => void) {
  const urls = new Map<string, ResponseUrl>();
  const notes: SandboxNote[] = [];

  const prune = () => {
    const now = Date.now();
    for (const [id, url] of urls) if (url.expiresAt < now) urls.delete(id);
    if (notes.length > MAX_NOTES) notes.splice(0, notes.length - MAX_NOTES);
  };

  const add = (note: Omit<SandboxNote, 'id' | 'ts'>): SandboxNote => {
    const full: SandboxNote = { id: randomBytes(8).toString('hex'), ts: nowTs(), ...note };
    notes.push(full);
    prune();
    onChange();
    return full;
  };

  return {
    notes: (): readonly SandboxNote[] => notes,
    note: (id: string) => notes.find((n) => n.id === id),

    /** A new response_url id for a command or a click in `channel`; `target` is the ephemeral message clicked, if any. */
    open(input: { channel: string; threadTs?: string; user: string; command?: string; target?: string }): string {
      const id = randomBytes(12).toString('hex');
      urls.set(id, { ...input, uses: 0, expiresAt: Date.now() + LIFETIME_MS });
      prune();
      return id;
    },

    /**
     * A POST to a response_url, with Slack's semantics for `replace_original`, `delete_original`
     * and `response_type`; `ack` is the immediate answer to the request, which uses no response_url.
     */
    respond(id: string, body: unknown, options: { ack?: boolean } = {}): RespondOutcome {
      const url = urls.get(id);
      if (!url || url.expiresAt < Date.now()) return { status: 404, error: 'expired_url' };
      if (!options.ack && url.uses >= MAX_USES) return { status: 404, error: 'used_url' };
      if (!isObject(body)) return { status: 400, error: 'invalid_payload' };
      const problems = validateMessageBlocks(body.blocks);
      if (problems.length) return { status: 400, error: 'invalid_blocks', errors: problems.map(formatProblem) };
      if (!options.ack) url.uses += 1;
      const target = url.target ? notes.find((n) => n.id === url.target) : undefined;
      if (body.delete_original === true) {
        if (target) notes.splice(notes.indexOf(target), 1);
        onChange();
        return { status: 200 };
      }
      const text = typeof body.text === 'string' ? body.text : '';
      const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
      if (body.replace_original === true && target) {
        target.text = text;
        target.blocks = blocks;
        onChange();
        return { status: 200 };
      }
      const ephemeral = body.response_type !== 'in_channel';
      const note = add({ channel: url.channel, user: url.user, ephemeral, text, ...(blocks ? { blocks } : {}), ...(url.threadTs ? { threadTs: url.threadTs } : {}), ...(url.command ? { command: url.command } : {}) });
      if (ephemeral) url.target = note.id;
      return { status: 200 };
    },

    /** A `chat.postEphemeral` the bot made through the Web API. */
    ephemeral(input: { channel: string; user: string; text: string; blocks?: unknown[]; threadTs?: string }): void {
      add({ ...input, ephemeral: true });
    },

    /** "Dismiss this message", which Slack offers on ephemeral messages. */
    dismiss(id: string, user: string): boolean {
      const index = notes.findIndex((n) => n.id === id && n.ephemeral && n.user === user);
      if (index < 0) return false;
      notes.splice(index, 1);
      onChange();
      return true;
    },
  };
}

export type ResponseInbox = ReturnType<typeof createResponseInbox>;
