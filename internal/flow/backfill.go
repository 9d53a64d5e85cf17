package flow

import "fmt"

// BackfillRatesName is the workflow type name of a backfill.
const BackfillRatesName = "BackfillRates"

// MaxBackfillDays bounds one backfill; longer ranges are several runs.
const MaxBackfillDays = 3660

// BackfillInput names the provider and the inclusive range of dates
// (YYYY-MM-DD).
type BackfillInput struct {
	Provider string `json:"provider"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// BackfillID is the workflow id of a backfill: one per provider and range,
// apart from the live schedule's runs, which it never blocks or skips.
func BackfillID(in BackfillInput) string {
	return fmt.Sprintf("backfill-rates/%s/%s..%s", in.Provider, in.From, in.To)
}

// BackfillResult reports what a backfill stored.
type BackfillResult struct {
	Provider string `json:"provider"`
	// Days counts the publication dates this attempt fetched and stored;
	// ResumedAfter is the last date an earlier attempt had stored, when
	// this one resumed after it.
	Days           int               `json:"days"`
	ResumedAfter   string            `json:"resumed_after,omitempty"`
	Inserted       int               `json:"inserted"`
	AlreadyPresent int               `json:"already_present"`
	Quarantined    []QuarantinedRate `json:"quarantined,omitempty"`
	// NotFinal counts the fetched rates not stored because their
	// publication time had not passed when they were fetched (a day asked
	// for before it was published, or dated in the future).
	NotFinal int `json:"not_final,omitempty"`
	// Downloads counts the History calls this attempt made: one file for
	// the ECB and the CBN; Open Exchange Rates then asks one day per call.
	Downloads int `json:"downloads"`
	// CacheUpdated counts the cached series the workflow's final
	// CacheRates moved forward.
	CacheUpdated int `json:"cache_updated"`
}
