import type { FakeSlack } from './fake-slack.js';
import type { OpenModal } from './modals.js';
import type { SandboxNote } from './response-inbox.js';

/** One message as the page draws it: from the fake Web API, or a note only the sandbox keeps. */
export interface ViewMessage {
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  edited?: boolean;
  /** Present on notes: the id to click, dismiss or replace by. */
  note?: string;
  ephemeral?: boolean;
  command?: string;
  replyCount?: number;
}

export interface ViewChannel {
  id: string;
  name: string;
  kind: 'channel' | 'dm';
  messages: ViewMessage[];
}

export interface SandboxView {
  version: number;
  user: { id: string; name: string };
  users: Record<string, string>;
  channels: ViewChannel[];
  modal?: { id: string; view: Record<string, unknown> };
}

/** DM channels (`D…`) and user ids posted to directly. */
const isDirect = (id: string) => /^[DUW][A-Z0-9]+$/.test(id);

/** What the page of `user` shows: every channel with its messages, the notes only `user` sees, and their open modal. */
export function buildSandboxView(input: {
  version: number;
  user: { id: string; name: string };
  fake: FakeSlack;
  notes: readonly SandboxNote[];
  modal: OpenModal | undefined;
  /** Channels the catalog routes to, shown even before anything is posted. */
  knownChannels: readonly string[];
  /** DM channel id → the user it is with (from conversations.open). */
  dmUsers: ReadonlyMap<string, string>;
}): SandboxView {
  const { fake, user } = input;
  const users: Record<string, string> = { [user.id]: user.name };
  for (const [id, profile] of fake.users) users[id] ??= profile.name;
  const visible = input.notes.filter((n) => !n.ephemeral || n.user === user.id);
  const ids = new Set([...input.knownChannels, ...fake.channels(), ...visible.map((n) => n.channel)]);

  const channels: ViewChannel[] = [...ids].map((id) => {
    const direct = isDirect(id);
    const dmUser = input.dmUsers.get(id) ?? (id.startsWith('D') ? undefined : id);
    const name = direct ? `@${dmUser ? (users[dmUser] ?? dmUser) : id}` : id.startsWith('#') ? id.slice(1) : id;
    const messages: ViewMessage[] = [
      ...fake.messages(id).map((m) => ({
        ts: m.ts,
        text: m.text,
        ...(m.thread_ts && m.thread_ts !== m.ts ? { threadTs: m.thread_ts } : {}),
        ...(m.blocks ? { blocks: m.blocks } : {}),
        ...(m.edited ? { edited: true } : {}),
        ...(m.reply_count ? { replyCount: m.reply_count } : {}),
      })),
      ...visible
        .filter((n) => n.channel === id)
        .map((n) => ({
          ts: n.ts,
          text: n.text,
          note: n.id,
          ephemeral: n.ephemeral,
          ...(n.threadTs ? { threadTs: n.threadTs } : {}),
          ...(n.blocks ? { blocks: n.blocks } : {}),
          ...(n.command ? { command: n.command } : {}),
        })),
    ].sort((a, b) => Number(a.ts) - Number(b.ts));
    return { id, name, kind: direct ? 'dm' : 'channel', messages };
  });
  channels.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'channel' ? -1 : 1));
  return {
    version: input.version,
    user,
    users,
    channels,
    ...(input.modal ? { modal: { id: input.modal.id, view: input.modal.view } } : {}),
  };
}
