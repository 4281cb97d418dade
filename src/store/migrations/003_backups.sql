-- One row per backup run (postgres dump, redis BGSAVE, backup command), whatever started it.
-- /metrics reads the latest row per (service, target), so every replica reports the same.
CREATE TABLE backups (
  id          uuid PRIMARY KEY,
  -- The audit run (runs.ref) that started it; no foreign key so schedules may record without one.
  run_ref     text,
  service     text NOT NULL,
  target      text NOT NULL,
  kind        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  file        text,
  bytes       bigint,
  sha256      text CHECK (sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'),
  verified    boolean NOT NULL DEFAULT false,
  detail      text,
  CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX backups_target_idx ON backups (service, target, started_at DESC);
