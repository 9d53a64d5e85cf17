-- conversion_audits becomes a table partitioned by month of created_at:
-- at a thousand conversions a second it gains 2.6 billion rows a month,
-- and one table of that size makes every index, vacuum and verification
-- pass over all of it. The rows already written are not copied: the old
-- table becomes the first partition as it is (conversion_audits_initial,
-- up to the start of next month), so no receipt, seq or xact_id changes
-- and the seal chain over them stays valid. Seals still cover windows of
-- transactions (xact_id), which cross partition boundaries freely.
--
-- PostgreSQL requires a partitioned table's unique indexes to include the
-- partition key, so the guarantees that rested on global unique indexes
-- move to two small unpartitioned tables written by the insert trigger,
-- in the receipt's own transaction: one receipt per (client, idempotency
-- key) and one receipt per quote. The receipt id is unique with its
-- created_at (the API draws it at random, 122 bits); seq is unique because
-- the trigger refuses a seq the identity did not draw.

-- conversion_idempotency_keys: the receipt each client's idempotency key
-- names. Kept for the retention the worker prunes to
-- (IDEMPOTENCY_KEY_RETENTION); the receipt itself keeps its key forever.
CREATE TABLE conversion_idempotency_keys (
    api_key_id      uuid        REFERENCES api_keys (id),
    idempotency_key text        NOT NULL,
    receipt_id      uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT conversion_idempotency_keys_key UNIQUE NULLS NOT DISTINCT (api_key_id, idempotency_key)
);

--bun:split

-- BRIN, not a B-tree: keys arrive in created_at order, and pruning by
-- range is all this index serves, so it need not cost every conversion a
-- B-tree insert.
CREATE INDEX conversion_idempotency_keys_created_at ON conversion_idempotency_keys USING brin (created_at);

--bun:split

-- conversion_quote_uses: the one receipt that executed each quote. Kept
-- as long as the quotes are (forever): one row per quoted conversion.
CREATE TABLE conversion_quote_uses (
    quote_id   uuid        NOT NULL REFERENCES conversion_quotes (id),
    receipt_id uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT conversion_quote_uses_quote_id PRIMARY KEY (quote_id)
);

--bun:split

CREATE TRIGGER conversion_quote_uses_refuse_update_delete BEFORE UPDATE OR DELETE ON conversion_quote_uses
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER conversion_quote_uses_refuse_truncate BEFORE TRUNCATE ON conversion_quote_uses
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

INSERT INTO conversion_idempotency_keys (api_key_id, idempotency_key, receipt_id, created_at)
    SELECT api_key_id, idempotency_key, id, created_at FROM conversion_audits WHERE idempotency_key IS NOT NULL;

--bun:split

INSERT INTO conversion_quote_uses (quote_id, receipt_id, created_at)
    SELECT quote_id, id, created_at FROM conversion_audits WHERE quote_id IS NOT NULL;

--bun:split

-- The old table, renamed, loses what the partitioned table now does for
-- every partition: its identity (the new table's continues from it), its
-- own insert trigger, the global unique indexes and its primary key
-- (replaced by the partitioned (id, created_at) one when it is attached).
DO $$
DECLARE
    next_seq bigint;
BEGIN
    SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO next_seq FROM conversion_audits_seq_seq;
    ALTER TABLE conversion_audits RENAME TO conversion_audits_initial;
    ALTER TABLE conversion_audits_initial ALTER COLUMN seq DROP IDENTITY;
    DROP TRIGGER conversion_audits_stamp_xact ON conversion_audits_initial;
    DROP INDEX conversion_audits_client_idempotency_key;
    DROP INDEX conversion_audits_quote_id;
    ALTER TABLE conversion_audits_initial DROP CONSTRAINT conversion_audits_pkey;
    ALTER TABLE conversion_audits_initial DROP CONSTRAINT conversion_audits_seq_key;
    ALTER INDEX conversion_audits_xact_id RENAME TO conversion_audits_initial_xact_id;
    ALTER INDEX conversion_audits_created_at RENAME TO conversion_audits_initial_created_at;
    ALTER INDEX conversion_audits_api_key_id RENAME TO conversion_audits_initial_api_key_id;
    -- The table keeps its statement triggers (append-only, no truncate):
    -- renamed, they read as the partition's own.
    ALTER TRIGGER conversion_audits_refuse_update_delete ON conversion_audits_initial RENAME TO conversion_audits_initial_refuse_update_delete;
    ALTER TRIGGER conversion_audits_refuse_truncate ON conversion_audits_initial RENAME TO conversion_audits_initial_refuse_truncate;
    PERFORM set_config('ces.next_audit_seq', next_seq::text, true);
END
$$;

--bun:split

-- Constraints are named as the old table's were: PostgreSQL attaches a
-- table as a partition only when it has the parent's CHECK constraints by
-- name.
CREATE TABLE conversion_audits (
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    id               uuid        NOT NULL,
    created_at       timestamptz NOT NULL,
    amount           numeric     NOT NULL CONSTRAINT conversion_audits_amount_check CHECK (amount > 0 AND amount < 'Infinity'),
    from_currency    char(3)     NOT NULL CONSTRAINT conversion_audits_from_currency_check CHECK (from_currency ~ '^[A-Z]{3}$'),
    to_currency      char(3)     NOT NULL CONSTRAINT conversion_audits_to_currency_check CHECK (to_currency ~ '^[A-Z]{3}$'),
    mid_rate         numeric     NOT NULL CONSTRAINT conversion_audits_mid_rate_check CHECK (mid_rate > 0 AND mid_rate < 'Infinity'),
    margin           numeric     NOT NULL CONSTRAINT conversion_audits_margin_check CHECK (margin >= 0 AND margin < 1),
    applied_rate     numeric     NOT NULL CONSTRAINT conversion_audits_applied_rate_check CHECK (applied_rate > 0 AND applied_rate < 'Infinity'),
    converted_amount numeric     NOT NULL CONSTRAINT conversion_audits_converted_amount_check CHECK (converted_amount >= 0 AND converted_amount < 'Infinity'),
    rounding         text        NOT NULL,
    provider         text        NOT NULL,
    as_of            timestamptz NOT NULL,
    leg1_rate_id     bigint      CONSTRAINT conversion_audits_leg1_rate_id_fkey REFERENCES exchange_rates (id),
    leg2_rate_id     bigint      CONSTRAINT conversion_audits_leg2_rate_id_fkey REFERENCES exchange_rates (id),
    request_id       text        NOT NULL,
    idempotency_key  text        CONSTRAINT conversion_audits_idempotency_key_check CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_sha256   char(64)    NOT NULL,
    client_address   text        NOT NULL,
    hash             char(64)    NOT NULL,
    xact_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    pricing_rule     text,
    minor_units      smallint    CONSTRAINT conversion_audits_minor_units_check CHECK (minor_units BETWEEN 0 AND 18),
    rate_precision   smallint    CONSTRAINT conversion_audits_rate_precision_check CHECK (rate_precision BETWEEN 1 AND 60),
    api_key_id       uuid        CONSTRAINT conversion_audits_api_key_id_fkey REFERENCES api_keys (id),
    quote_id         uuid        CONSTRAINT conversion_audits_quote_id_fkey REFERENCES conversion_quotes (id),
    stale            boolean,
    CONSTRAINT conversion_audits_legs CHECK (leg2_rate_id IS NULL OR leg1_rate_id IS NOT NULL),
    CONSTRAINT conversion_audits_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

--bun:split

SELECT setval(pg_get_serial_sequence('conversion_audits', 'seq'), current_setting('ces.next_audit_seq')::bigint, false);

--bun:split

CREATE INDEX conversion_audits_seq ON conversion_audits (seq);

--bun:split

CREATE INDEX conversion_audits_xact_id ON conversion_audits (xact_id);

--bun:split

CREATE INDEX conversion_audits_created_at ON conversion_audits (created_at);

--bun:split

CREATE INDEX conversion_audits_api_key_id ON conversion_audits (api_key_id, seq);

--bun:split

-- ces_stamp_audit runs before every insert into any partition: it stamps
-- the inserting transaction (seal windows), refuses a seq the identity did
-- not draw (INSERT ... OVERRIDING SYSTEM VALUE: seq orders verification
-- and must stay unique without a global index), and registers the
-- receipt's idempotency key and quote in their tables, whose unique
-- constraints refuse a second receipt for either.
CREATE FUNCTION ces_stamp_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM currval('conversion_audits_seq_seq') THEN
        RAISE EXCEPTION 'ces: seq % on % was not drawn by its identity', NEW.seq, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    NEW.xact_id := pg_current_xact_id();
    IF NEW.idempotency_key IS NOT NULL THEN
        INSERT INTO conversion_idempotency_keys (api_key_id, idempotency_key, receipt_id, created_at)
            VALUES (NEW.api_key_id, NEW.idempotency_key, NEW.id, NEW.created_at);
    END IF;
    IF NEW.quote_id IS NOT NULL THEN
        INSERT INTO conversion_quote_uses (quote_id, receipt_id, created_at) VALUES (NEW.quote_id, NEW.id, NEW.created_at);
    END IF;
    RETURN NEW;
END
$$;

--bun:split

CREATE TRIGGER conversion_audits_stamp BEFORE INSERT ON conversion_audits
    FOR EACH ROW EXECUTE FUNCTION ces_stamp_audit();

--bun:split

-- Row-level, so that PostgreSQL clones it onto every partition: a
-- statement trigger on the parent does not fire for a statement naming a
-- partition.
CREATE TRIGGER conversion_audits_refuse_update_delete BEFORE UPDATE OR DELETE ON conversion_audits
    FOR EACH ROW EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER conversion_audits_refuse_truncate BEFORE TRUNCATE ON conversion_audits
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

DO $$
DECLARE
    upper_bound timestamptz;
BEGIN
    -- Month arithmetic in UTC (timestamp without time zone), whatever the
    -- session's time zone.
    SELECT (date_trunc('month', greatest(now(), coalesce(max(created_at), now())) AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
        INTO upper_bound FROM conversion_audits_initial;
    EXECUTE format('ALTER TABLE conversion_audits ATTACH PARTITION conversion_audits_initial FOR VALUES FROM (MINVALUE) TO (%L)', upper_bound);
END
$$;

--bun:split

-- conversion_audits_default takes a row whose month has no partition yet
-- (the worker makes them months ahead, see ces_audit_partitions), so a
-- conversion is never refused for the calendar.
CREATE TABLE conversion_audits_default PARTITION OF conversion_audits DEFAULT;

--bun:split

CREATE TRIGGER conversion_audits_default_refuse_truncate BEFORE TRUNCATE ON conversion_audits_default
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- ces_audit_partitions makes the monthly partitions (UTC months, the
-- function's time zone) from the
-- newest one up to the month that starts `ahead` months from now, each
-- refusing TRUNCATE like the table, and returns their names. It runs as
-- the tables' owner (only the owner may add partitions), so the worker
-- calls it with no other privilege. A month that already has rows in the
-- default partition is skipped and named in a notice: its rows stay
-- there, verified and sealed like any other.
CREATE FUNCTION ces_audit_partitions(ahead integer) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET TimeZone = 'UTC' AS $$
DECLARE
    newest timestamptz;
    month  timestamptz;
    last   timestamptz;
    name   text;
BEGIN
    IF ahead < 0 OR ahead > 120 THEN
        RAISE EXCEPTION 'ces: ahead must be between 0 and 120 months, not %', ahead;
    END IF;
    -- One maker at a time: two workers would race for the same month.
    PERFORM pg_advisory_xact_lock(hashtext('ces_audit_partitions'));
    SELECT max((regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz)
        INTO newest FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.conversion_audits'::regclass;
    last := date_trunc('month', now()) + make_interval(months => ahead);
    month := newest;
    WHILE month <= last LOOP
        name := 'conversion_audits_' || to_char(month, 'YYYY_MM');
        IF EXISTS (SELECT FROM public.conversion_audits_default WHERE created_at >= month AND created_at < month + interval '1 month') THEN
            RAISE NOTICE 'ces: % not made: the default partition holds rows of that month', name;
        ELSE
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.conversion_audits FOR VALUES FROM (%L) TO (%L)',
                name, month, month + interval '1 month');
            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON public.%I FOR EACH STATEMENT EXECUTE FUNCTION public.ces_refuse_change()',
                name || '_refuse_truncate', name);
            RETURN NEXT name;
        END IF;
        month := month + interval '1 month';
    END LOOP;
END
$$;

--bun:split

SELECT ces_audit_partitions(3);

--bun:split

REVOKE ALL ON FUNCTION ces_audit_partitions(integer) FROM PUBLIC;

--bun:split

GRANT EXECUTE ON FUNCTION ces_audit_partitions(integer) TO ces_worker_role;

--bun:split

-- ces_prune_idempotency_keys forgets the idempotency keys of receipts
-- older than keep (the receipts keep their keys): the table stays the
-- size of the retention window, not of the log. It runs as the owner, as
-- the table refuses the worker every other change.
CREATE FUNCTION ces_prune_idempotency_keys(keep interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n bigint;
BEGIN
    IF keep < interval '1 hour' THEN
        RAISE EXCEPTION 'ces: idempotency keys are kept at least an hour, not %', keep;
    END IF;
    DELETE FROM public.conversion_idempotency_keys WHERE created_at < now() - keep;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

--bun:split

REVOKE ALL ON FUNCTION ces_prune_idempotency_keys(interval) FROM PUBLIC;

--bun:split

GRANT EXECUTE ON FUNCTION ces_prune_idempotency_keys(interval) TO ces_worker_role;

--bun:split

GRANT SELECT, INSERT ON conversion_audits, conversion_idempotency_keys, conversion_quote_uses TO ces_api_role;

--bun:split

GRANT SELECT ON conversion_audits, conversion_idempotency_keys, conversion_quote_uses TO ces_worker_role;

--bun:split

-- currval, in ces_stamp_audit, is read as the inserting role.
GRANT SELECT ON SEQUENCE conversion_audits_seq_seq TO ces_api_role;
