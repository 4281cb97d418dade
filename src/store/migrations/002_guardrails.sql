-- One run at a time per action and target, across replicas and double clicks: the database
-- refuses a second 'running' row for an exclusive action. deadline_at lets a later run take
-- over from one abandoned by a process that died mid-run.
ALTER TABLE runs ADD COLUMN exclusive boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN deadline_at timestamptz;
CREATE UNIQUE INDEX runs_one_at_a_time ON runs (action_id, (coalesce(target, ''))) WHERE status = 'running' AND exclusive;

-- A confirmation asked for in Slack: it works once, for the person who asked, until it expires.
CREATE TABLE confirmations (
  id          uuid PRIMARY KEY,
  action_id   text NOT NULL,
  input       jsonb NOT NULL,
  actor_id    text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
