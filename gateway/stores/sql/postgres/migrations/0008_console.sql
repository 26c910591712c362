-- The operator console reads failed texts by contact and by time: failures are few, so these
-- partial indexes cost little on the writes that make a text fail and nothing on the others.
CREATE INDEX outbound_failures_contact ON outbound_messages (contact_id, id) WHERE status IN ('failed', 'undelivered');
CREATE INDEX outbound_failures_recent ON outbound_messages (updated_at) WHERE status IN ('failed', 'undelivered');
