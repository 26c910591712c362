-- Partner API: OAuth clients and their tokens, and each contact's welcome confirmation.

CREATE TABLE oauth_clients (
    id          text PRIMARY KEY,          -- the client_id
    name        text,
    secret_hash text NOT NULL,             -- argon2id of the client secret
    dealer_id   text NOT NULL,             -- the one dealer this client may act for
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE TABLE oauth_tokens (
    token_hash text PRIMARY KEY,           -- SHA-256 (hex) of the bearer token
    client_id  text NOT NULL,
    dealer_id  text NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE contact_welcome (
    contact_id       bigint PRIMARY KEY,   -- no row: welcome state "none"
    state            text NOT NULL,        -- pending | confirmed | send_error
    send_error       text,
    token_hash       text UNIQUE,          -- SHA-256 (hex) of the link's token
    token_expires_at timestamptz,
    sent_at          timestamptz,
    confirmed_at     timestamptz,
    updated_at       timestamptz NOT NULL
);
