-- A quote holds for its TTL (expires_at - created_at, as hashed) counted
-- on the database's clock from when the database recorded it, not on the
-- clock of the API replica that made it: a replica whose clock lags
-- would otherwise convert a quote that has expired. The conversion's
-- transaction judges it (store.quoteCheckSQL). Quotes recorded before
-- this column existed keep NULL and are judged from their created_at
-- (their TTLs, 30 s by default, are long past): a default of now() here
-- would have stamped every old, unconverted quote as fresh.
ALTER TABLE conversion_quotes ADD COLUMN recorded_at timestamptz;

--bun:split

ALTER TABLE conversion_quotes ALTER COLUMN recorded_at SET DEFAULT now();
