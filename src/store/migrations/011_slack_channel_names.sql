-- Routes may name a channel (`#ops-alerts`); Slack answers a post there with the channel's id,
-- which replies and edits then use. Each name's id, once Slack told it, so that every pending
-- write to the channel is paced under the one key Slack limits.
CREATE TABLE slack_channel_names (
  name    text PRIMARY KEY,
  channel text NOT NULL,
  seen_at timestamptz NOT NULL
);
