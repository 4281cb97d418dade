-- Whatever Alertmanager sends is stored: no btree entry holds its free text any more, and an
-- unknown start time is NULL rather than Go's zero time.
--
-- A btree entry is at most about 2.7 kB, so an index over receiver or group_key refused the row of
-- a group keyed by long label values ("index row size exceeds btree maximum"), and Alertmanager
-- retried that notification until it gave up. The indexes now hold a SHA-256 of the two texts;
-- queries match the hash (to use the index) and then the full texts (so a collision can only make
-- two groups share an index entry, never a match).

-- UTF-8 bytes of receiver, a NUL (which text cannot hold, so the pair is unambiguous), then
-- group_key. IMMUTABLE holds: convert_to is only STABLE because encodings could change, and a
-- database's encoding never does.
CREATE FUNCTION alert_group_hash(receiver text, group_key text) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT sha256(convert_to(receiver, 'UTF8') || '\x00'::bytea || convert_to(group_key, 'UTF8')) $$;

DROP INDEX incidents_one_open_per_group;
DROP INDEX incidents_group_idx;
DROP INDEX notifications_group_idx;
-- At most one open incident per alert group (by hash; the texts are compared by every query).
CREATE UNIQUE INDEX incidents_one_open_per_group ON incidents (alert_group_hash(receiver, group_key)) WHERE status = 'firing';
CREATE INDEX incidents_group_idx ON incidents (alert_group_hash(receiver, group_key), opened_at DESC);
CREATE INDEX notifications_group_idx ON notifications (alert_group_hash(receiver, group_key), received_at DESC);

-- Alertmanager sends 0001-01-01T00:00:00Z when a start time is unknown; it is stored as NULL.
ALTER TABLE alerts ALTER COLUMN starts_at DROP NOT NULL;
ALTER TABLE incidents ALTER COLUMN started_at DROP NOT NULL;
UPDATE alerts SET starts_at = NULL WHERE starts_at < '0002-01-01T00:00:00Z';
UPDATE incidents SET started_at = NULL WHERE started_at < '0002-01-01T00:00:00Z';
