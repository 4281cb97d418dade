-- Automatic runbook steps and alert storms: both decide from the store, so every instance
-- agrees and a restart forgets nothing.

-- Automations: one row per scheduled run of a route's `automations[]` rule for an incident.
-- A ticker claims due rows with FOR UPDATE SKIP LOCKED; the row's state says what happened.
CREATE TABLE automations (
  id           uuid PRIMARY KEY,
  incident_id  uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  route_name   text NOT NULL,
  alertname    text NOT NULL,
  action_id    text NOT NULL,
  -- The service the action acts on (route.service, else the incident's); NULL when neither names one.
  target       text,
  input        jsonb NOT NULL,
  max_per_hour integer NOT NULL CHECK (max_per_hour > 0),
  after_ms     integer NOT NULL CHECK (after_ms >= 0),
  created_at   timestamptz NOT NULL,
  due_at       timestamptz NOT NULL,
  -- pending: waits for due_at. running: handed to dispatch (counts towards maxPerHour).
  -- done: dispatch answered (run_status says how). skipped: not run, `reason` says why.
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'skipped')),
  started_at   timestamptz,
  -- A 'running' row past this time belonged to an instance that stopped mid-run.
  lease_until  timestamptz,
  finished_at  timestamptz,
  run_ref      text,
  run_status   text,
  reason       text,
  CHECK (state <> 'pending' OR (started_at IS NULL AND finished_at IS NULL)),
  CHECK (state <> 'running' OR lease_until IS NOT NULL)
);

-- One waiting run per incident and rule: alerts joining while it waits do not queue more.
CREATE UNIQUE INDEX automations_one_pending ON automations (incident_id, route_name, alertname, action_id) WHERE state = 'pending';
CREATE INDEX automations_due_idx ON automations (due_at) WHERE state = 'pending';
CREATE INDEX automations_lease_idx ON automations (lease_until) WHERE state = 'running';
-- maxPerHour counts the runs started on one action and target within the last hour.
CREATE INDEX automations_rate_idx ON automations (action_id, target, started_at) WHERE started_at IS NOT NULL;

-- Storms: a channel that gets too many new incidents at once shows the next ones in one digest
-- message (key `digest:<channel>:<epoch ms>`) instead of a thread each.
CREATE TABLE storm_digests (
  message_key      text PRIMARY KEY,
  channel          text NOT NULL,
  started_at       timestamptz NOT NULL,
  -- The storm lasts while new incidents keep arriving within the catalog's `storm.quietAfter`.
  last_incident_at timestamptz NOT NULL
);

CREATE INDEX storm_digests_channel_idx ON storm_digests (channel, started_at DESC);

-- The incidents listed in a digest. thread: 'digest' (no message of its own; its changes only
-- re-render the digest), 'requested' (Open thread was clicked: the next render posts it), 'open'
-- (its parent message was posted; from then on it is an incident like any other).
CREATE TABLE storm_incidents (
  incident_id uuid PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  message_key text NOT NULL REFERENCES storm_digests (message_key) ON DELETE CASCADE,
  thread      text NOT NULL DEFAULT 'digest' CHECK (thread IN ('digest', 'requested', 'open')),
  added_at    timestamptz NOT NULL
);

CREATE INDEX storm_incidents_digest_idx ON storm_incidents (message_key);
-- New incidents of a channel within the storm window.
CREATE INDEX incidents_channel_opened_idx ON incidents (channel, opened_at DESC);
