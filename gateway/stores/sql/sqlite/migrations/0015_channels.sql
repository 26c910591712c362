-- The call and push methods: a contact's language for the voice that calls them, what the loopback
-- carrier placed (a text or a call), and the browsers a contact allowed to alert them (Web Push).
ALTER TABLE contacts ADD COLUMN language TEXT;
ALTER TABLE loopback_messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'sms';

CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX push_subscriptions_contact ON push_subscriptions (contact_id);
