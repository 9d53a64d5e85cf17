-- A quote holds for its TTL (expires_at - created_at, as hashed) counted
-- on the database's clock from when the database recorded it, not on the
-- clock of the API replica that made it: a replica whose clock lags
-- would otherwise convert a quote that has expired. The conversion's
-- transaction judges it (store.quoteCheckSQL). Quotes recorded before
-- this column existed take the time of this migration, which only
-- lengthens nothing: their TTLs (30 s by default) are long past.
ALTER TABLE conversion_quotes ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
