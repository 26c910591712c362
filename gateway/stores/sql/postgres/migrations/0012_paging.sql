-- Readers page by id, but with concurrent transactions a sequence's ids do not become visible in order:
-- a reader that served id 10 while id 9's transaction was still open would never see 9. So each row of
-- the tables read by cursor records its transaction's id (tx), readers serve only rows whose transaction
-- ended before every write transaction still open on this database began (tx below paging_horizon()),
-- in (tx, id) order, and a cursor stands for its row's (tx, id). Rows older than this migration, or
-- copied in by `gateway db copy`, are settled history: tx 0.

-- The oldest transaction id still open that may write here, else the snapshot's xmax. A snapshot lists
-- the open transactions of every database of the server; those that pg_stat_activity shows in another
-- database are left out, so another application's long transaction never holds the gateway's readers
-- (one not found there, having just ended, counts: waiting is safe, skipping is not). STABLE: it sees
-- the snapshot of the query that calls it, the one that query's rows come from.
CREATE FUNCTION paging_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
                     WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                       WHERE a.backend_xid IS NOT NULL
                                         AND a.datname IS DISTINCT FROM current_database()
                                         AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
                    pg_snapshot_xmax(s)::text::bigint)
    FROM pg_current_snapshot() AS s
$$;
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
