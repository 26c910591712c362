-- Rows without the key leave the index: every page an inbound text's commit changes is written to the WAL and
-- synced (synchronous = FULL), and a HELP from an unknown number changed 13 (bench/README.md). A text from a
-- number of no site logs events with no site_id, and a reply sent inline with the webhook's answer has no
-- carrier message id: both were index entries no lookup reads (each lookup names the key: `site_id = :site_id`,
-- `carrier_message_id = :carrier_message_id`, which SQLite matches to an `IS NOT NULL` index).
DROP INDEX event_log_site;
CREATE INDEX event_log_site ON event_log (site_id, id) WHERE site_id IS NOT NULL;
DROP INDEX outbound_carrier_message;
CREATE INDEX outbound_carrier_message ON outbound_messages (carrier, carrier_message_id)
    WHERE carrier_message_id IS NOT NULL;
