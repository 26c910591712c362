-- The sending pace as PostgreSQL shares it between daemons (gateway/loops/pace.py). One daemon serves a
-- SQLite file and keeps its pace in memory; the table is here so both engines have the same schema.
CREATE TABLE sender_pace (
    sender   TEXT PRIMARY KEY,
    full_at  TEXT NOT NULL
);
