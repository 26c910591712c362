-- The SMS interface: site groups, contacts of a group (no site of their own), PINs with
-- expiry and duress, the On Test permission, and per-number interface state.

CREATE TABLE site_groups (
    id         TEXT PRIMARY KEY,
    dealer_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE site_group_sites (
    group_id TEXT NOT NULL REFERENCES site_groups (id),
    site_id  TEXT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (group_id, site_id)
);

-- SQLite cannot drop NOT NULL in place: rebuild contacts so a group contact needs no site.
CREATE TABLE contacts_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id             TEXT REFERENCES sites (id),
    group_id            TEXT REFERENCES site_groups (id),
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
    pin_expires_at      TEXT,
    duress_pin_hash     TEXT,
    on_test_permission  INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    UNIQUE (site_id, external_contact_id),
    CHECK (site_id IS NOT NULL OR group_id IS NOT NULL)
);
INSERT INTO contacts_new (id, site_id, external_contact_id, first_name, last_name, phone, email, auto_notify,
                          email_notify, title, slot_number, time_zone, pin_hash, created_at)
SELECT id, site_id, external_contact_id, first_name, last_name, phone, email, auto_notify,
       email_notify, title, slot_number, time_zone, pin_hash, created_at
FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_new RENAME TO contacts;
CREATE INDEX contacts_phone ON contacts (phone);
CREATE INDEX contacts_site ON contacts (site_id);
CREATE INDEX contacts_group ON contacts (group_id);

-- One row per phone number that has talked to the interface. No PIN is ever stored here.
CREATE TABLE interface_state (
    phone               TEXT PRIMARY KEY,
    session_contact_id  INTEGER,
    session_expires_at  TEXT,
    session_duress      INTEGER NOT NULL DEFAULT 0,
    failures            INTEGER NOT NULL DEFAULT 0,
    failures_since      TEXT,
    locked_until        TEXT,
    pending_command     TEXT,
    pending_until       TEXT,
    replies             INTEGER NOT NULL DEFAULT 0,
    replies_since       TEXT,
    muted_until         TEXT,
    updated_at          TEXT NOT NULL
);
