-- The outbox retries transient failures until Slack takes the write, so a write now ends 'sent',
-- 'failed' (Slack refused it for good, even in its minimal form) or 'retired' (time made it
-- pointless: an edit folded into the post of its message, which was still waiting).
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'sent', 'failed', 'retired'));
-- Waiting after a transient failure (5xx, network): the first call Slack answers again wakes these
-- rows at once instead of letting each wait out its backoff. Cleared when a sender claims the row.
ALTER TABLE outbox ADD COLUMN transient_retry boolean NOT NULL DEFAULT false;
-- A DM page links to its incident's thread: it is not sent while the post of this key still waits.
ALTER TABLE outbox ADD COLUMN after_key text;
-- The Slack error that made the sender replace the payload with its minimal form (plain text), or
-- move a post to the default channel; the row is then sent as such.
ALTER TABLE outbox ADD COLUMN degraded text;
-- The oldest-undelivered gauge reads min(created_at) of pending rows.
CREATE INDEX outbox_pending_created_idx ON outbox (created_at) WHERE state = 'pending';

-- conversations.open per user: one call at a time per user however many DMs wait, and a backoff
-- per user, so an outage costs a call per user per backoff instead of one per DM.
CREATE TABLE slack_dm_opens (
  user_id      text PRIMARY KEY,
  next_open_at timestamptz NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  -- As outbox.transient_retry: woken when Slack answers again.
  transient_retry boolean NOT NULL DEFAULT false
);

-- Channels the bot cannot post in, reported once in the default channel (the row is the "once").
CREATE TABLE slack_channel_problems (
  channel     text PRIMARY KEY,
  code        text NOT NULL,
  reported_at timestamptz NOT NULL
);
