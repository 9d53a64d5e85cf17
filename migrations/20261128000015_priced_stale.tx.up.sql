-- A receipt and a quote record whether they were priced from a stale
-- rate: a leg older than its provider's staleness bound (RATE_STALE_AFTER
-- or the publisher's cadence) yet within CONVERT_MAX_RATE_AGE. It is in
-- the hashed content of new rows (ces-receipt v6, ces-quote v2). Rows from
-- before stay NULL, "not recorded", and keep hashing as the version they
-- were written in: a DEFAULT false would make every old row, and every
-- row an API replica not yet upgraded inserts during a rolling deploy,
-- read as a v6 receipt its stored hash does not cover. Adding a column
-- without a default rewrites no row, so the tables' refuse-change
-- triggers do not fire; the roles' table-level INSERT and SELECT grants
-- cover the new column.
ALTER TABLE conversion_audits ADD COLUMN stale boolean;

--bun:split

ALTER TABLE conversion_quotes ADD COLUMN stale boolean;
