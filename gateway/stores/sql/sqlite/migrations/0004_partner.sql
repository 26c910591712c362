-- Partner API: OAuth clients and their tokens, and each contact's welcome confirmation.

CREATE TABLE oauth_clients (
    id          TEXT PRIMARY KEY,          -- the client_id
    name        TEXT,
    secret_hash TEXT NOT NULL,             -- argon2id of the client secret
    dealer_id   TEXT NOT NULL,             -- the one dealer this client may act for
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,           -- SHA-256 (hex) of the bearer token
    client_id  TEXT NOT NULL,
    dealer_id  TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE contact_welcome (
    contact_id       INTEGER PRIMARY KEY,  -- no row: welcome state "none"
    state            TEXT NOT NULL,        -- pending | confirmed | send_error
    send_error       TEXT,
    token_hash       TEXT UNIQUE,          -- SHA-256 (hex) of the link's token
    token_expires_at TEXT,
    sent_at          TEXT,
    confirmed_at     TEXT,
    updated_at       TEXT NOT NULL
);
