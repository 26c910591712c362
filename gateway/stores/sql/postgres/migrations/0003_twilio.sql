-- Twilio: delivery status, opt-outs, lookups.

-- What a carrier lookup said about a contact's phone: unknown | valid | invalid, and the line type.
ALTER TABLE contacts ADD COLUMN phone_status text NOT NULL DEFAULT 'unknown', ADD COLUMN line_type text;

-- The carrier's own latest report (queued, sent, delivered...) and its rank: reports only move it forward.
ALTER TABLE outbound_messages
    ADD COLUMN carrier_status text,
    ADD COLUMN carrier_status_rank integer NOT NULL DEFAULT 0;
CREATE INDEX outbound_carrier_message ON outbound_messages (carrier, carrier_message_id);

-- Every status report a carrier sent, once per (message, status): repeats are harmless.
CREATE TABLE delivery_statuses (
    carrier            text NOT NULL,
    carrier_message_id text NOT NULL,
    status             text NOT NULL,
    error_code         text,
    received_at        timestamptz NOT NULL,
    PRIMARY KEY (carrier, carrier_message_id, status)
);

-- Numbers that texted STOP (or that the carrier refused with "unsubscribed"); opted_out false after START.
CREATE TABLE opt_outs (
    phone      text PRIMARY KEY,
    opted_out  boolean NOT NULL,
    source     text NOT NULL,   -- STOP | START | 21610 ...
    changed_at timestamptz NOT NULL
);

-- Cached carrier lookups (line type intelligence), by E.164 number.
CREATE TABLE phone_lookups (
    phone        text PRIMARY KEY,
    valid        boolean NOT NULL,
    line_type    text,
    carrier_name text,
    looked_up_at timestamptz NOT NULL
);
