-- The Verifications API and Dispatch SMS: informational verifications, the email channel of
-- the outbox, one-time response links, dispatches and the window in which replies count.

ALTER TABLE verifications ADD COLUMN method TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE verifications ADD COLUMN require_response INTEGER NOT NULL DEFAULT 1;
ALTER TABLE verifications ADD COLUMN message TEXT;
-- A contact may be a recipient twice, by SMS and by email: the key takes the channel.
CREATE TABLE verification_recipients_new (
    verification_id TEXT NOT NULL REFERENCES verifications (id),
    contact_id      INTEGER NOT NULL,
    channel         TEXT NOT NULL DEFAULT 'sms',
    phone           TEXT,
    email           TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    error           TEXT,
    response        TEXT,
    responded_at    TEXT,
    PRIMARY KEY (verification_id, contact_id, channel)
);
INSERT INTO verification_recipients_new (verification_id, contact_id, phone, status, response, responded_at)
SELECT verification_id, contact_id, phone, status, response, responded_at FROM verification_recipients;
DROP TABLE verification_recipients;
ALTER TABLE verification_recipients_new RENAME TO verification_recipients;
CREATE INDEX verification_recipients_contact ON verification_recipients (contact_id);
CREATE INDEX verification_recipients_phone ON verification_recipients (phone);

-- An email is an outbox message too: channel 'email', to_address set, to_phone empty.
ALTER TABLE outbound_messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE outbound_messages ADD COLUMN to_address TEXT;
ALTER TABLE outbound_messages ADD COLUMN subject TEXT;

-- Links in verification emails. Only a SHA-256 of each token is kept (the token is 256 random bits).
CREATE TABLE response_tokens (
    token_hash      TEXT PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES verifications (id),
    contact_id      INTEGER NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

CREATE TABLE dispatches (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (id),
    template    TEXT,
    code        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    reply_until TEXT NOT NULL
);

CREATE TABLE dispatch_recipients (
    dispatch_id TEXT NOT NULL REFERENCES dispatches (id),
    contact_id  INTEGER NOT NULL,
    phone       TEXT NOT NULL,
    PRIMARY KEY (dispatch_id, contact_id)
);
CREATE INDEX dispatch_recipients_phone ON dispatch_recipients (phone);
