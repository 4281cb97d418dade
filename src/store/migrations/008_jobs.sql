-- Scheduled jobs: one row per job and slot (the scheduled minute, UTC). Every instance fires
-- on schedule and inserts its claim; the primary key lets one in, and only that one runs.
CREATE TABLE job_runs (
  job         text NOT NULL,
  slot        timestamptz NOT NULL,
  claimed_by  text NOT NULL,
  started_at  timestamptz NOT NULL,
  -- After this a 'running' row is taken for dead (its instance stopped) and marked 'abandoned'.
  deadline_at timestamptz NOT NULL,
  finished_at timestamptz,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'abandoned')),
  summary     text,
  -- The audit record (runs.ref) when the job ran an action through dispatch.
  run_ref     text,
  -- What the next run of the same job needs to know (the escalation auditor: what it already reported).
  detail      jsonb,
  PRIMARY KEY (job, slot),
  CHECK ((status = 'running') = (finished_at IS NULL))
);

-- One running slot per job across every instance: a slot that finds the previous one still
-- running is recorded as 'skipped' instead of overlapping it.
CREATE UNIQUE INDEX job_runs_one_running ON job_runs (job) WHERE status = 'running';
CREATE INDEX job_runs_recent_idx ON job_runs (job, slot DESC);
