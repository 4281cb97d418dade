-- Incidents: one per Alertmanager alert group (receiver + groupKey) and episode, with its
-- alerts, an append-only timeline, and every webhook delivery as it arrived.
CREATE TABLE incidents (
  id                 uuid PRIMARY KEY,
  -- The short number people type (`/ops ack 42`); never reused.
  number             integer GENERATED ALWAYS AS IDENTITY UNIQUE,
  receiver           text NOT NULL,
  group_key          text NOT NULL,
  status             text NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity           text NOT NULL,
  title              text NOT NULL,
  service            text,
  group_labels       jsonb NOT NULL DEFAULT '{}'::jsonb,
  common_labels      jsonb NOT NULL DEFAULT '{}'::jsonb,
  common_annotations jsonb NOT NULL DEFAULT '{}'::jsonb,
  external_url       text NOT NULL DEFAULT '',
  truncated_alerts   integer NOT NULL DEFAULT 0,
  started_at         timestamptz NOT NULL,
  resolved_at        timestamptz,
  -- A Slack user id when a person resolved it; NULL when Alertmanager did.
  resolved_by        text,
  acknowledged_by    text,
  acknowledged_at    timestamptz,
  silence_id         text,
  silence_ends_at    timestamptz,
  silence_by         text,
  route_name         text,
  channel            text,
  -- Frozen when the incident opens, so a catalog edit never changes a running escalation.
  escalation_policy  jsonb,
  opened_at          timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  version            integer NOT NULL DEFAULT 1,
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
  CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)),
  CHECK ((silence_id IS NULL) = (silence_ends_at IS NULL))
);

-- At most one open incident per alert group, whatever replicas and retries do.
CREATE UNIQUE INDEX incidents_one_open_per_group ON incidents (receiver, group_key) WHERE status = 'firing';
-- The latest incident of a group (reopen or open anew), and the open list newest first.
CREATE INDEX incidents_group_idx ON incidents (receiver, group_key, opened_at DESC);
CREATE INDEX incidents_open_idx ON incidents (opened_at DESC) WHERE status = 'firing';

CREATE TABLE alerts (
  incident_id   uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  fingerprint   text NOT NULL,
  status        text NOT NULL CHECK (status IN ('firing', 'resolved')),
  labels        jsonb NOT NULL,
  annotations   jsonb NOT NULL,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz,
  generator_url text NOT NULL DEFAULT '',
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (incident_id, fingerprint)
);

-- Append-only: rows are inserted, never updated or deleted by the application.
CREATE TABLE timeline (
  id          bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  kind        text NOT NULL,
  -- 'alertmanager', or the Slack user id of the person who acted.
  actor       text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX timeline_incident_idx ON timeline (incident_id, id);

-- Every webhook delivery, committed before Alertmanager gets its 2xx. Duplicates (retries, both
-- members of an HA pair) are recorded too: the incident update is idempotent, and keeping each
-- delivery shows how often they happen. body_sha256 makes them cheap to find.
CREATE TABLE notifications (
  id          bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL,
  receiver    text NOT NULL,
  group_key   text NOT NULL,
  body_sha256 text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
  payload     jsonb NOT NULL
);

CREATE INDEX notifications_group_idx ON notifications (receiver, group_key, received_at DESC);
CREATE INDEX notifications_received_idx ON notifications (received_at);
