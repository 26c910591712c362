-- The Verifications API and Dispatch SMS: informational verifications, the email channel of
-- the outbox, one-time response links, dispatches and the window in which replies count.

ALTER TABLE verifications
    ADD COLUMN method text NOT NULL DEFAULT 'sms',
    ADD COLUMN require_response boolean NOT NULL DEFAULT true,
    ADD COLUMN message text;

-- A contact may be a recipient twice, by SMS and by email: the key takes the channel.
ALTER TABLE verification_recipients
    ADD COLUMN channel text NOT NULL DEFAULT 'sms',
    ADD COLUMN email text,
    ADD COLUMN error text,
    DROP CONSTRAINT verification_recipients_pkey,
    ADD PRIMARY KEY (verification_id, contact_id, channel);
CREATE INDEX verification_recipients_phone ON verification_recipients (phone);

-- An email is an outbox message too: channel 'email', to_address set, to_phone empty.
ALTER TABLE outbound_messages
    ADD COLUMN channel text NOT NULL DEFAULT 'sms',
    ADD COLUMN to_address text,
    ADD COLUMN subject text;

-- Links in verification emails. Only a SHA-256 of each token is kept (the token is 256 random bits).
CREATE TABLE response_tokens (
    token_hash      text PRIMARY KEY,
    verification_id text NOT NULL REFERENCES verifications (id),
    contact_id      bigint NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

CREATE TABLE dispatches (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites (id),
    template    text,
    code        text NOT NULL,
    created_at  timestamptz NOT NULL,
    reply_until timestamptz NOT NULL
);

CREATE TABLE dispatch_recipients (
    dispatch_id text NOT NULL REFERENCES dispatches (id),
    contact_id  bigint NOT NULL,
    phone       text NOT NULL,
    PRIMARY KEY (dispatch_id, contact_id)
);
CREATE INDEX dispatch_recipients_phone ON dispatch_recipients (phone);
