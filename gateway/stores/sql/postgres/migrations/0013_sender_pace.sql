-- The sending pace shared by every daemon: per sender number, when its segment budget is full again
-- (a token bucket held as one time, moved forward by each reservation in one statement).
CREATE TABLE sender_pace (
    sender   text PRIMARY KEY,
    full_at  timestamptz NOT NULL
);
