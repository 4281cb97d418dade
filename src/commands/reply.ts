import type { KnownBlock } from '@slack/types';

/** What a person sees as the answer to a command or a click: fallback text plus optional Block Kit. */
export interface Reply {
  text: string;
  blocks?: KnownBlock[];
  /** Visible to the whole channel instead of only to the person who asked. */
  public?: boolean;
}

export const textReply = (text: string, options: { public?: boolean } = {}): Reply => ({ text, ...options });

/** Escapes the three characters Slack treats as markup in mrkdwn and plain text alike. */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
