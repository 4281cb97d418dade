-- The audit record: one row per run of an action, whoever or whatever started it.
CREATE TABLE runs (
  id          uuid PRIMARY KEY,
  ref         text NOT NULL UNIQUE,
  action_id   text NOT NULL,
  target      text,
  input       jsonb NOT NULL DEFAULT '{}'::jsonb,
  actor_id    text NOT NULL,
  actor_name  text,
  origin      text NOT NULL CHECK (origin IN ('slash', 'button', 'modal', 'automation', 'schedule', 'api')),
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'refused')),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  summary     text,
  error_code  text
);

CREATE INDEX runs_target_idx ON runs (target, started_at DESC);
CREATE INDEX runs_action_idx ON runs (action_id, started_at DESC);
