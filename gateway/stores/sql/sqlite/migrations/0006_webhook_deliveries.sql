-- One row per (subscriber, webhook event): the durable queue the webhook dispatcher works
-- from. ``subscriber`` is the subscriber's URL as configured.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber       TEXT NOT NULL,
    webhook_event_id INTEGER NOT NULL REFERENCES webhook_events (id),
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,  -- while 'sending': when the lease runs out
    created_at       TEXT NOT NULL,
    last_error       TEXT,
    delivered_at     TEXT,
    UNIQUE (subscriber, webhook_event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- The last webhook_events id fanned out into deliveries. Reading events after it, creating
-- their deliveries and moving it happen in one transaction: each event is fanned out once.
CREATE TABLE webhook_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, last_event_id) VALUES (1, 0);
