-- PostgreSQL's twin records each paged row's transaction id, so that readers never skip a row a slower
-- transaction commits by a lower id. SQLite has one writer at a time: ids become visible in the order
-- they are given and paging by id alone is safe. The columns are here, always 0, so both engines keep
-- the same tables and columns (gateway db copy moves them as they are).
ALTER TABLE event_log ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_events ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_cursor ADD COLUMN last_tx INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loopback_messages ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
