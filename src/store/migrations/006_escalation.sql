-- Escalation: the progress of each incident's frozen policy (incidents.escalation_policy), the
-- steps that fired, and on-call overrides. The ticker of every instance claims due rows with
-- FOR UPDATE SKIP LOCKED and fires a step, its timeline event and its Slack writes in one
-- transaction, so a step fires once whatever the number of instances and restarts.
CREATE TABLE escalations (
  incident_id    uuid PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  -- Bumped when the incident reopens and its ladder starts again.
  episode        integer NOT NULL DEFAULT 1,
  -- Step due times count from here (the incident's opening, or its reopening).
  started_at     timestamptz NOT NULL,
  notified_steps integer NOT NULL DEFAULT 0 CHECK (notified_steps >= 0),
  -- Reminders sent to the acknowledger since the acknowledgement (policy remindAfter).
  reminders_sent integer NOT NULL DEFAULT 0 CHECK (reminders_sent >= 0),
  -- When the ticker must look at this row again: the next step, or the next reminder. NULL: never.
  next_due_at    timestamptz,
  updated_at     timestamptz NOT NULL
);

CREATE INDEX escalations_due_idx ON escalations (next_due_at) WHERE next_due_at IS NOT NULL;

-- One row per fired step; the primary key makes a second firing of a step impossible, and the
-- due and fired times show how late each page was.
CREATE TABLE escalation_steps (
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  episode     integer NOT NULL,
  step        integer NOT NULL,
  -- 0-based level of the policy; people read it as L1, L2, …
  level       integer NOT NULL,
  due_at      timestamptz NOT NULL,
  fired_at    timestamptz NOT NULL,
  -- Due steps folded into this one because nothing fired them in time (Switchboard was down).
  collapsed   integer NOT NULL DEFAULT 0,
  -- Mentions paged (`<@U…>`, `<!subteam^S…>`), and why a target had nobody.
  targets     jsonb NOT NULL DEFAULT '[]'::jsonb,
  nobody      jsonb NOT NULL DEFAULT '[]'::jsonb,
  PRIMARY KEY (incident_id, episode, step)
);

-- Someone standing in for a schedule's rotation; the newest covering an instant wins. Rows are
-- kept after they end (who was on call when).
CREATE TABLE oncall_overrides (
  id         bigserial PRIMARY KEY,
  schedule   text NOT NULL,
  user_id    text NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  CHECK (ends_at > starts_at)
);

CREATE INDEX oncall_overrides_schedule_idx ON oncall_overrides (schedule, ends_at);
