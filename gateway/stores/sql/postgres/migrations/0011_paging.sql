-- Readers page by id, but with concurrent transactions a sequence's ids do not become visible in order:
-- a reader that served id 10 while id 9's transaction was still open would never see 9. So each row of
-- the tables read by cursor records its transaction's id (tx), readers serve only rows whose transaction
-- ended before every transaction still open began (tx below the snapshot's xmin), in (tx, id) order,
-- and a cursor stands for its row's (tx, id). Rows older than this migration, or copied in by
-- `gateway db copy`, are settled history: tx 0.
ALTER TABLE event_log ADD COLUMN tx bigint NOT NULL DEFAULT 0;
ALTER TABLE event_log ALTER COLUMN tx SET DEFAULT pg_current_xact_id()::text::bigint;
CREATE INDEX event_log_tx ON event_log (tx, id);
CREATE INDEX event_log_site_tx ON event_log (site_id, tx, id);

ALTER TABLE webhook_events ADD COLUMN tx bigint NOT NULL DEFAULT 0;
ALTER TABLE webhook_events ALTER COLUMN tx SET DEFAULT pg_current_xact_id()::text::bigint;
CREATE INDEX webhook_events_tx ON webhook_events (tx, id);
ALTER TABLE webhook_cursor ADD COLUMN last_tx bigint NOT NULL DEFAULT 0;

ALTER TABLE loopback_messages ADD COLUMN tx bigint NOT NULL DEFAULT 0;
ALTER TABLE loopback_messages ALTER COLUMN tx SET DEFAULT pg_current_xact_id()::text::bigint;
CREATE INDEX loopback_messages_tx ON loopback_messages (tx, id);
CREATE INDEX loopback_messages_to_tx ON loopback_messages (to_phone, tx, id);
