-- The quality gate's consensus and issuer checks. A quarantine now names
-- one of four comparisons: 'previous' and 'provider' (as before),
-- 'consensus' (the median of the other publishers' values of a currency
-- of the same UTC date, on a common base) and 'issuer' (the issuing
-- authority's value of that date). A consensus hold has no single
-- reference row: reference_value is the median, and the values compared
-- are kept in votes, each with the rows it was derived from. Rows written
-- before keep their meaning; every new column is NULL on them. Adding
-- nullable columns and changing constraints rewrites no row, so the
-- refuse-change triggers do not fire.
ALTER TABLE rate_quarantines DROP CONSTRAINT rate_quarantines_against_check;

--bun:split

ALTER TABLE rate_quarantines ADD CONSTRAINT rate_quarantines_against_check
    CHECK (against IN ('previous', 'provider', 'consensus', 'issuer'));

--bun:split

ALTER TABLE rate_quarantines ALTER COLUMN reference_rate_id DROP NOT NULL;

--bun:split

-- currency: the currency judged; on_base: the common base it was valued
-- on (USD, or EUR for USD); value: the held row's value of currency in
-- on_base units (reference_value is the median's or the issuer's, in the
-- same units); median, mad: the other publishers' median and median
-- absolute deviation; mads, band: the parameters the limit (jump_limit)
-- came from, max(mads × mad, band × median) ÷ median; publishers: how
-- many other publishers voted; votes: [{"provider", "value", "rate_ids"}].
ALTER TABLE rate_quarantines
    ADD COLUMN currency   char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN on_base    char(3) CHECK (on_base ~ '^[A-Z]{3}$'),
    ADD COLUMN value      numeric CHECK (value > 0 AND value < 'Infinity'),
    ADD COLUMN median     numeric CHECK (median > 0 AND median < 'Infinity'),
    ADD COLUMN mad        numeric CHECK (mad >= 0 AND mad < 'Infinity'),
    ADD COLUMN mads       numeric CHECK (mads >= 0 AND mads < 'Infinity'),
    ADD COLUMN band       numeric CHECK (band > 0 AND band < 1),
    ADD COLUMN publishers integer CHECK (publishers > 0),
    ADD COLUMN votes      jsonb CHECK (jsonb_typeof(votes) = 'array');

--bun:split

ALTER TABLE rate_quarantines ADD CONSTRAINT rate_quarantines_figures CHECK (
    CASE against
        WHEN 'consensus' THEN currency IS NOT NULL AND on_base IS NOT NULL AND value IS NOT NULL
            AND median IS NOT NULL AND mad IS NOT NULL AND mads IS NOT NULL AND band IS NOT NULL
            AND publishers IS NOT NULL AND votes IS NOT NULL
        WHEN 'issuer' THEN reference_rate_id IS NOT NULL AND currency IS NOT NULL AND on_base IS NOT NULL
            AND value IS NOT NULL AND band IS NOT NULL AND votes IS NOT NULL
        ELSE reference_rate_id IS NOT NULL
    END);

--bun:split

-- figures: what the operator was shown when deciding (the held row's
-- value, the reference figures, the change and the limit), as the console
-- or the CLI sent them and the store checked against the quarantine.
-- NULL on decisions taken before it was recorded.
ALTER TABLE rate_quarantine_decisions ADD COLUMN figures text CHECK (length(btrim(figures)) > 0);
