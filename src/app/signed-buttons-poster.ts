import { signButtons, type ButtonSigner } from '../commands/button-value.js';
import type { ChatPoster } from '../integrations/slack/chat-poster.js';

/**
 * The chat poster every incident message, digest and page goes through, signing the values of
 * Switchboard's buttons on the way out: the one place all of them pass, so renderers stay pure.
 */
export function withSignedButtons(poster: ChatPoster, signer: ButtonSigner | undefined): ChatPoster {
  if (!signer) return poster;
  return {
    ...poster,
    postMessage: (message) => poster.postMessage(message.blocks ? { ...message, blocks: signButtons(message.blocks, signer) } : message),
    update: (message) => poster.update(message.blocks ? { ...message, blocks: signButtons(message.blocks, signer) } : message),
  };
}
