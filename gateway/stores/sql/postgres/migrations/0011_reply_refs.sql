-- Reply references: the number a phone with several open alarms answers one of them by ("YES 2"). One
-- reference per phone and alarm (its processes share it), held until an hour after its verification's
-- timeout; the primary key keeps two alarms decided at once from taking the same number. Rows are
-- taken over once their hold ran out, never deleted: a phone has as many as it ever held at once.
CREATE TABLE reply_refs (
    phone           text NOT NULL,
    ref             integer NOT NULL,
    alarm_key       text NOT NULL,  -- the alarm event's id, or the verification's when it has no event
    verification_id text NOT NULL REFERENCES verifications (id),
    site_id         text NOT NULL REFERENCES sites (id),
    created_at      timestamptz NOT NULL,
    held_until      timestamptz NOT NULL,
    PRIMARY KEY (phone, ref)
);
