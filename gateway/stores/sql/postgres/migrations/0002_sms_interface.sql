-- The SMS interface: site groups, contacts of a group (no site of their own), PINs with
-- expiry and duress, the On Test permission, and per-number interface state.

CREATE TABLE site_groups (
    id         text PRIMARY KEY,
    dealer_id  text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE site_group_sites (
    group_id text NOT NULL REFERENCES site_groups (id),
    site_id  text NOT NULL REFERENCES sites (id),
    PRIMARY KEY (group_id, site_id)
);

ALTER TABLE contacts
    ALTER COLUMN site_id DROP NOT NULL,
    ADD COLUMN group_id text REFERENCES site_groups (id),
    ADD COLUMN pin_expires_at timestamptz,
    ADD COLUMN duress_pin_hash text,
    ADD COLUMN on_test_permission boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT contacts_site_or_group CHECK (site_id IS NOT NULL OR group_id IS NOT NULL);
CREATE INDEX contacts_group ON contacts (group_id);

-- One row per phone number that has talked to the interface. No PIN is ever stored here.
CREATE TABLE interface_state (
    phone               text PRIMARY KEY,
    session_contact_id  bigint,
    session_expires_at  timestamptz,
    session_duress      boolean NOT NULL DEFAULT false,
    failures            integer NOT NULL DEFAULT 0,
    failures_since      timestamptz,
    locked_until        timestamptz,
    pending_command     text,
    pending_until       timestamptz,
    replies             integer NOT NULL DEFAULT 0,
    replies_since       timestamptz,
    muted_until         timestamptz,
    updated_at          timestamptz NOT NULL
);
