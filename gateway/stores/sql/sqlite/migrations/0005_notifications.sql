-- Events for webhook subscribers, written in the same transaction as the change they report
-- (a transactional outbox): a crash can delay a webhook, never lose or invent one.
CREATE TABLE webhook_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    data       TEXT NOT NULL,  -- JSON
    created_at TEXT NOT NULL
);
