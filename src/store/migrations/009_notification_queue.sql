-- The notifications table doubles as the intake queue: POST /alertmanager inserts a row and
-- answers; the notification processor applies pending rows to their incidents afterwards.
ALTER TABLE notifications ADD COLUMN processed_at    timestamptz;
ALTER TABLE notifications ADD COLUMN attempts        integer NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN last_error      text;
-- Not retried before this (backoff after a failed apply).
ALTER TABLE notifications ADD COLUMN next_attempt_at timestamptz;
-- A processor claimed the row until then; past it another instance may take it over.
ALTER TABLE notifications ADD COLUMN claimed_until   timestamptz;
-- Given up after too many failed attempts; kept with last_error for a person to look at.
ALTER TABLE notifications ADD COLUMN failed_at       timestamptz;

-- Rows stored before the queue existed were applied when they arrived.
UPDATE notifications SET processed_at = received_at;

CREATE INDEX notifications_pending_idx ON notifications (id) WHERE processed_at IS NULL AND failed_at IS NULL;
