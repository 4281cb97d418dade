-- Silences and reconciliation with Alertmanager. Alertmanager sends nothing for a silenced
-- alert, not even its resolution, and a resolution lost on the way (a restart, a changed
-- receiver, a dropped notification) is never sent again: Switchboard asks its API instead.

-- While every firing alert of an incident is silenced its escalation is paused; on resuming,
-- started_at moves on by the pause, so the ladder continues where it was without replaying.
ALTER TABLE escalations ADD COLUMN paused_at timestamptz;

-- When reconciliation first found a firing alert missing from every reachable Alertmanager;
-- cleared when one has it again. It counts as gone once missing for `goneAfter`.
ALTER TABLE alerts ADD COLUMN missing_since timestamptz;

-- One reconciliation per interval across instances: the instance whose update moves `slot`
-- forward runs it (slot = start time / interval).
CREATE TABLE reconcile_runs (
  name       text PRIMARY KEY,
  slot       bigint NOT NULL,
  claimed_by text NOT NULL,
  started_at timestamptz NOT NULL
);

-- Whether each configured Alertmanager answered at its last check, and since when: one log
-- line per outage (and one when it is back), whichever instance checks.
CREATE TABLE alertmanager_reachability (
  url        text PRIMARY KEY,
  reachable  boolean NOT NULL,
  since      timestamptz NOT NULL,
  checked_at timestamptz NOT NULL,
  last_error text
);
