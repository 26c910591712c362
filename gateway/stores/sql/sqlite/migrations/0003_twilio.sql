-- Twilio: delivery status, opt-outs, lookups.

-- What a carrier lookup said about a contact's phone: unknown | valid | invalid, and the line type.
ALTER TABLE contacts ADD COLUMN phone_status TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE contacts ADD COLUMN line_type TEXT;

-- The carrier's own latest report (queued, sent, delivered...) and its rank: reports only move it forward.
ALTER TABLE outbound_messages ADD COLUMN carrier_status TEXT;
ALTER TABLE outbound_messages ADD COLUMN carrier_status_rank INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbound_carrier_message ON outbound_messages (carrier, carrier_message_id);

-- Every status report a carrier sent, once per (message, status): repeats are harmless.
CREATE TABLE delivery_statuses (
    carrier            TEXT NOT NULL,
    carrier_message_id TEXT NOT NULL,
    status             TEXT NOT NULL,
    error_code         TEXT,
    received_at        TEXT NOT NULL,
    PRIMARY KEY (carrier, carrier_message_id, status)
);

-- Numbers that texted STOP (or that the carrier refused with "unsubscribed"); opted_out 0 after START.
CREATE TABLE opt_outs (
    phone      TEXT PRIMARY KEY,
    opted_out  INTEGER NOT NULL,
    source     TEXT NOT NULL,   -- STOP | START | 21610 ...
    changed_at TEXT NOT NULL
);

-- Cached carrier lookups (line type intelligence), by E.164 number.
CREATE TABLE phone_lookups (
    phone        TEXT PRIMARY KEY,
    valid        INTEGER NOT NULL,
    line_type    TEXT,
    carrier_name TEXT,
    looked_up_at TEXT NOT NULL
);
