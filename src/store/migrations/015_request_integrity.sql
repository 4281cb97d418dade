-- Slack requests already accepted, so a signed request replayed within the five minutes its
-- timestamp stays valid is refused, on every replica. `key` is `sig:<signature>` for every
-- request, and `event:<event_id>` for Events API deliveries (Slack's retries re-sign them).
-- Rows past expires_at mean nothing and are deleted from time to time.
CREATE TABLE slack_requests_seen (
  key         text PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX slack_requests_seen_expiry ON slack_requests_seen (expires_at);

-- Keys Switchboard itself generates once and every replica shares: `button` signs the values of
-- the buttons it posts. Not the Slack signing secret, so rotating that does not void old buttons.
CREATE TABLE server_keys (
  name        text PRIMARY KEY,
  secret      bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
