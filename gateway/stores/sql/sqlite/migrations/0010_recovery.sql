-- Recovery from the carrier asks, for each of the gateway's numbers, when its newest inbound text came.
CREATE INDEX inbound_messages_to ON inbound_messages (carrier, to_phone, received_at);

-- Texts the loopback carrier took for the gateway and did not deliver ("missed"): kept as a carrier
-- keeps its inbound messages, for recovery to read back.
CREATE TABLE loopback_inbound (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    from_phone  TEXT NOT NULL,
    to_phone    TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX loopback_inbound_to ON loopback_inbound (to_phone, received_at);
