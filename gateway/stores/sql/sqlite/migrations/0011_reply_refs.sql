-- Reply references: the number a phone with several open alarms answers one of them by ("YES 2"). One
-- reference per phone and alarm (its processes share it), held until an hour after its verification's
-- timeout; the primary key keeps two alarms decided at once from taking the same number. Rows are
-- taken over once their hold ran out, never deleted: a phone has as many as it ever held at once.
CREATE TABLE reply_refs (
    phone           TEXT NOT NULL,
    ref             INTEGER NOT NULL,
    alarm_key       TEXT NOT NULL,  -- the alarm event's id, or the verification's when it has no event
    verification_id TEXT NOT NULL REFERENCES verifications (id),
    site_id         TEXT NOT NULL REFERENCES sites (id),
    created_at      TEXT NOT NULL,
    held_until      TEXT NOT NULL,
    PRIMARY KEY (phone, ref)
);
