-- A keyed post whose outcome Slack may know and the store does not: set when a sender takes the
-- post to Slack, cleared when Slack's answer says it was not posted. Found still set at a later
-- claim (the sender died, the answer was lost, or recording it failed), the sender first looks
-- for the message in the channel's history by the key in its metadata, and posts only if absent.
ALTER TABLE outbox ADD COLUMN sending_since timestamptz;
