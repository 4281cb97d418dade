/** What the operator can do about a Slack error code that made the outbox give up on a message. */
export function slackErrorHint(code: string, channel: string | undefined): string | undefined {
  const where = channel ? `<#${channel}>` : 'the channel';
  switch (code) {
    case 'not_in_channel':
      return `invite @switchboard to ${where} (/invite @switchboard)`;
    case 'channel_not_found':
      return `check the channel id${channel ? ` ${channel}` : ''} in the catalog's routes; for a private channel, invite @switchboard first`;
    case 'is_archived':
      return `${where} is archived: unarchive it or route the alerts to another channel`;
    case 'invalid_blocks':
    case 'invalid_blocks_format':
    case 'msg_too_long':
    case 'no_text':
      return 'a renderer produced a message Slack refuses; report it with the error details';
    case 'message_not_found':
    case 'cant_update_message':
    case 'edit_window_closed':
      return 'the message was deleted or can no longer be edited; later renders of it will fail too';
    case 'not_authed':
    case 'invalid_auth':
    case 'token_revoked':
    case 'token_expired':
    case 'account_inactive':
      return 'check SLACK_BOT_TOKEN: Slack does not accept it';
    case 'missing_scope':
      return 'add the missing scope to the Slack app (manifest.yml) and reinstall it';
    case 'user_not_found':
    case 'user_disabled':
    case 'cannot_dm_bot':
      return 'the escalation target is not a user Switchboard can message; check the escalation policy';
    case 'restricted_action':
    case 'restricted_action_read_only_channel':
      return `a workspace setting stops @switchboard from posting in ${where}`;
    default:
      return undefined;
  }
}
