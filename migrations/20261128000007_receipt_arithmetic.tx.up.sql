-- A receipt records what recomputing it needs without the code's tables:
-- the target currency's minor units (its converted amount is rounded to
-- them) and the significant digits of derived rates (its mid rate, when
-- a cross, is divided to them). Rows from before stay NULL and are
-- recomputed with the tables, as before; both values are in the hashed
-- content of new receipts (ces-receipt v3).
ALTER TABLE conversion_audits
    ADD COLUMN minor_units smallint CHECK (minor_units BETWEEN 0 AND 18),
    ADD COLUMN rate_precision smallint CHECK (rate_precision BETWEEN 1 AND 60);
