package flow

import "time"

// IngestRatesName is the workflow type name operators query by.
const IngestRatesName = "IngestRates"

// IngestInput names the provider and, optionally, the day to ingest.
type IngestInput struct {
	Provider string `json:"provider"`
	// Date is YYYY-MM-DD to ingest a past day's rates; empty means the
	// latest, unless the run is a schedule backfill (a scheduled time
	// long past asks for that day's rates).
	Date string `json:"date,omitempty"`
}

// IngestResult summarises one ingestion.
type IngestResult struct {
	Provider       string    `json:"provider"`
	Base           string    `json:"base"`
	AsOf           time.Time `json:"as_of"`
	Date           string    `json:"date,omitempty"`
	Fetched        int       `json:"fetched"`
	Inserted       int       `json:"inserted"`
	AlreadyPresent int       `json:"already_present"`
	CacheUpdated   int       `json:"cache_updated"`
	Skipped        []string  `json:"skipped,omitempty"`
	Conflicts      []string  `json:"conflicts,omitempty"`
	// Quarantined lists the rates the quality gate held back: stored, but
	// neither cached nor priced until an operator releases them.
	Quarantined []QuarantinedRate `json:"quarantined,omitempty"`
	// NotFinal counts the fetched rates not stored because their
	// publisher's publication time had not passed when they were fetched
	// (a morning poll of the CBN, whose day is final at 16:00 UTC): the
	// first poll after that time stores the day.
	NotFinal int `json:"not_final,omitempty"`
}

// QuarantinedRate is a stored rate the quality gate held back.
type QuarantinedRate struct {
	QuarantineID      int64  `json:"quarantine_id"`
	RateID            int64  `json:"rate_id"`
	Base              string `json:"base"`
	Quote             string `json:"quote"`
	Rate              string `json:"rate"`
	Against           string `json:"against"`
	ReferenceProvider string `json:"reference_provider"`
	ReferenceRate     string `json:"reference_rate"`
	Change            string `json:"change"`
}
