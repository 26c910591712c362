-- Rows without the key leave the index (SQLite's 0018 says why: fewer pages written per inbound text). Every
-- lookup through these names the key (`site_id = :site_id`, `carrier_message_id = :carrier_message_id` or
-- `= ANY (...)`), strict comparisons PostgreSQL proves imply `IS NOT NULL`.
DROP INDEX event_log_site;
CREATE INDEX event_log_site ON event_log (site_id, id) WHERE site_id IS NOT NULL;
DROP INDEX event_log_site_tx;
CREATE INDEX event_log_site_tx ON event_log (site_id, tx, id) WHERE site_id IS NOT NULL;
DROP INDEX outbound_carrier_message;
CREATE INDEX outbound_carrier_message ON outbound_messages (carrier, carrier_message_id)
    WHERE carrier_message_id IS NOT NULL;
