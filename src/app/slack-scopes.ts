/**
 * The bot token scopes Switchboard needs, each with the reason; `manifest.yml` must ask for
 * exactly these (a test checks), so a workspace admin approves nothing the bot does not use.
 */
export const BOT_SCOPES: Record<string, string> = {
  commands: 'receive /ops',
  'chat:write': 'post results, progress and incident threads in channels the bot is in',
  'usergroups:read': 'resolve user groups named in catalog roles (usergroups.users.list)',
  'im:write': 'open direct messages to the people escalation pages (conversations.open)',
  'channels:history': "find a post or thread reply whose answer was lost in a public channel, so it is not sent twice (conversations.history, conversations.replies)",
  'groups:history': 'the same in private channels the bot was invited to',
  'im:history': 'find a DM page whose answer was lost in the DM channel, so nobody is paged twice (conversations.history)',
};
