-- PostgreSQL's 0016 makes a server-side function that writes a decision in one round trip. SQLite writes a
-- decision in one hop to its writer thread already: nothing to make here.
SELECT 1;
