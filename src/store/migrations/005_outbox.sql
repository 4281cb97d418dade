-- The Slack outbox: every Slack write about an incident, committed with the state it shows and
-- drained by the sender within Slack's limits. A row is never deleted by the sender: it ends
-- 'sent' or 'failed' (with last_error), so nothing is dropped silently.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('post', 'update', 'reply', 'dm')),
  -- Known at enqueue for posts; for replies, updates and DMs filled in once the parent message's
  -- (or the DM's) channel is known. Pacing is per channel, so only rows with a channel are sent.
  channel     text,
  message_key text,
  thread_key  text,
  user_id     text,
  -- 0 page, 1 routine: escalation pings go ahead of routine writes in the same channel.
  priority    smallint NOT NULL CHECK (priority IN (0, 1)),
  payload     jsonb NOT NULL,
  state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  -- Not sent before this time: backoff, Retry-After, or the lease of a sender holding the row.
  not_before  timestamptz NOT NULL DEFAULT '-infinity',
  last_error  text,
  -- Bumped each time a pending update is re-rendered, so a send that raced a newer render does
  -- not mark the newer payload as sent.
  revision    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  CHECK (kind <> 'post' OR (channel IS NOT NULL AND message_key IS NOT NULL)),
  CHECK (kind <> 'update' OR message_key IS NOT NULL),
  CHECK (kind <> 'reply' OR thread_key IS NOT NULL),
  CHECK (kind <> 'dm' OR user_id IS NOT NULL),
  CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);

-- Coalescing: one waiting edit per message; a newer render replaces its payload.
CREATE UNIQUE INDEX outbox_one_pending_update ON outbox (message_key) WHERE kind = 'update' AND state = 'pending';
-- A message key names one Slack message: a second post of it while the first waits is a duplicate.
CREATE UNIQUE INDEX outbox_one_pending_post ON outbox (message_key) WHERE kind IN ('post', 'reply') AND state = 'pending' AND message_key IS NOT NULL;
CREATE INDEX outbox_pending_channel_idx ON outbox (channel, priority, id) WHERE state = 'pending';
CREATE INDEX outbox_pending_thread_idx ON outbox (thread_key) WHERE state = 'pending' AND kind = 'reply';

-- Slack messages the outbox posted, by key: a post whose key is here is never posted again, and
-- replies and edits find their ts here. next_update_at paces chat.update per message.
CREATE TABLE slack_messages (
  message_key    text PRIMARY KEY,
  channel        text NOT NULL,
  ts             text NOT NULL,
  posted_at      timestamptz NOT NULL,
  next_update_at timestamptz NOT NULL
);

-- Per-channel pacing shared by every sender instance (about one chat.postMessage per second per
-- channel, pushed further by Retry-After and by backoff so a channel's order is kept).
CREATE TABLE slack_channels (
  channel      text PRIMARY KEY,
  next_post_at timestamptz NOT NULL
);

-- DM channel per user, from conversations.open, so a DM costs one call after the first.
CREATE TABLE slack_dm_channels (
  user_id   text PRIMARY KEY,
  channel   text NOT NULL,
  opened_at timestamptz NOT NULL
);
