-- The gateway's tables. Times are UTC ISO 8601 text ("2026-01-15T10:30:00.000Z"): they sort as they read.

CREATE TABLE sites (
    id            TEXT PRIMARY KEY,
    dealer_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    time_zone     TEXT NOT NULL DEFAULT 'UTC',
    on_test_until TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX sites_dealer ON sites (dealer_id);

CREATE TABLE contacts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id             TEXT NOT NULL REFERENCES sites (id),
    external_contact_id TEXT,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    phone               TEXT,
    email               TEXT,
    auto_notify         INTEGER NOT NULL DEFAULT 0,
    email_notify        INTEGER NOT NULL DEFAULT 0,
    title               TEXT,
    slot_number         INTEGER,
    time_zone           TEXT,
    pin_hash            TEXT,
    created_at          TEXT NOT NULL,
    UNIQUE (site_id, external_contact_id)
);
CREATE INDEX contacts_phone ON contacts (phone);
CREATE INDEX contacts_site ON contacts (site_id);

CREATE TABLE alarm_events (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (id),
    event_code  TEXT NOT NULL,
    zone        TEXT,
    text        TEXT,
    received_at TEXT NOT NULL
);

CREATE TABLE verifications (
    id           TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites (id),
    event_id     TEXT,
    process      TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    timeout_at   TEXT NOT NULL,
    response     TEXT,
    responded_at TEXT,
    responded_by INTEGER
);
CREATE INDEX verifications_open ON verifications (status, timeout_at);

CREATE TABLE verification_recipients (
    verification_id TEXT NOT NULL REFERENCES verifications (id),
    contact_id      INTEGER NOT NULL,
    phone           TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    response        TEXT,
    responded_at    TEXT,
    PRIMARY KEY (verification_id, contact_id)
);
CREATE INDEX verification_recipients_contact ON verification_recipients (contact_id);

CREATE TABLE inbound_messages (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    carrier            TEXT NOT NULL,
    carrier_message_id TEXT NOT NULL,
    from_phone         TEXT NOT NULL,
    to_phone           TEXT NOT NULL,
    body               TEXT NOT NULL,  -- PIN already masked
    received_at        TEXT NOT NULL,
    UNIQUE (carrier, carrier_message_id)
);

CREATE TABLE outbound_messages (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    kind               TEXT NOT NULL,
    priority           INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,  -- queued | sending | sent | delivered | undelivered | failed | expired
    to_phone           TEXT NOT NULL,
    from_phone         TEXT NOT NULL,
    body               TEXT NOT NULL,
    segments           INTEGER NOT NULL,
    site_id            TEXT,
    contact_id         INTEGER,
    verification_id    TEXT,
    inbound_id         INTEGER,        -- set for replies sent inline with the webhook answer
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT NOT NULL,
    expires_at         TEXT,
    carrier            TEXT,
    carrier_message_id TEXT,
    error_code         TEXT,
    error_message      TEXT,
    sent_at            TEXT
);
CREATE INDEX outbound_due ON outbound_messages (status, priority DESC, id) WHERE status IN ('queued', 'sending');

CREATE TABLE event_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    code            TEXT NOT NULL,
    site_id         TEXT,
    contact_id      INTEGER,
    phone           TEXT,
    verification_id TEXT,
    event_id        TEXT,
    comment         TEXT,
    details         TEXT,              -- JSON
    trace_id        TEXT
);
CREATE INDEX event_log_site ON event_log (site_id, id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL,          -- argon2id of the secret part
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- What the loopback carrier has "sent": its own durable record, the way a real carrier keeps one.
CREATE TABLE loopback_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    outbound_id INTEGER NOT NULL,
    to_phone    TEXT NOT NULL,
    from_phone  TEXT NOT NULL,
    body        TEXT NOT NULL,
    sent_at     TEXT NOT NULL
);
CREATE INDEX loopback_messages_to ON loopback_messages (to_phone, id);
