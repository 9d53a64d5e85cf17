-- A key's own request quota per minute; NULL: the default of each scope
-- (QUOTA_RATES_PER_MINUTE, QUOTA_CONVERT_PER_MINUTE). Set when the key is
-- made and never changed: a new quota is a new key.
ALTER TABLE api_keys ADD COLUMN requests_per_minute integer CHECK (requests_per_minute > 0);
