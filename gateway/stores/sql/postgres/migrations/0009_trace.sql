-- gateway trace reads a number's texts and event-log rows, a verification's messages and a site's
-- last alarm. An operator asks rarely, but over tables that only grow: these keep each read to
-- the rows it wants, for one more index entry per write.
CREATE INDEX outbound_to_phone ON outbound_messages (to_phone, id);
CREATE INDEX outbound_verification ON outbound_messages (verification_id) WHERE verification_id IS NOT NULL;
CREATE INDEX inbound_from_phone ON inbound_messages (from_phone, id);
CREATE INDEX event_log_phone ON event_log (phone, id) WHERE phone IS NOT NULL;
CREATE INDEX verifications_site ON verifications (site_id, created_at);
CREATE INDEX alarm_events_site ON alarm_events (site_id, received_at);
