package admin

import (
	"context"
	"time"

	"ces/internal/audit"
	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/store"
)

// Stores are what the console's pages read and write, one small
// interface per domain; the fields of *store.Store satisfy them.
type Stores struct {
	Rates       RateStore
	Quality     QualityStore
	Conversions ConversionStore
	Audit       AuditStore
	Keys        KeyStore
	Console     UserStore
	// Health reads each publisher's newest health check (the dashboard);
	// nil shows none.
	Health HealthStore
}

// StoresOf returns the console's view of st.
func StoresOf(st *store.Store) Stores {
	return Stores{Rates: st.Rates, Quality: st.Quality, Conversions: st.Conversions, Audit: st.Audit, Keys: st.Keys, Console: st.Console, Health: st.Health}
}

// RateStore pages and exports stored rates (the Data page) and dates each
// provider's newest (the dashboard).
type RateStore interface {
	RatesPage(ctx context.Context, f store.RateFilter, after *store.Cursor, limit int) ([]store.RateRecord, error)
	StreamRates(ctx context.Context, f store.RateFilter, fn func(store.RateRecord) error) error
	RateRecordByID(ctx context.Context, id int64) (store.RateRecord, error)
	NewestAsOf(ctx context.Context, provider string) (time.Time, bool, error)
	PublicationStates(ctx context.Context, provider string, from, to time.Time) ([]store.Publication, error)
	Pairs(ctx context.Context, provider string, from, to time.Time) ([]store.Pair, error)
	Series(ctx context.Context, provider, base, quote string, from, to time.Time) ([]store.SeriesPoint, error)
}

// HealthStore reads each publisher's newest health check.
type HealthStore interface {
	LatestChecks(ctx context.Context) ([]store.PublisherCheck, error)
}

// QualityStore lists and decides quarantines and suspends pairs (the
// Quality page).
type QualityStore interface {
	Quarantines(ctx context.Context, pending bool, limit int) ([]store.Quarantine, error)
	Quarantine(ctx context.Context, id int64) (store.Quarantine, error)
	Decide(ctx context.Context, d store.Decision, cascade store.Cascade) (store.Quarantine, error)
	CountHeld(ctx context.Context) (int, error)
	Suspensions(ctx context.Context) ([]store.Suspension, error)
	SetSuspension(ctx context.Context, a, b string, suspended bool, reason, username string) error
}

// ConversionStore pages receipts and shows one with the quote it
// executed (the Conversions page).
type ConversionStore interface {
	ConversionsPage(ctx context.Context, f store.ConversionFilter, beforeSeq int64, limit int) ([]fx.Receipt, []int64, error)
	ConversionByID(ctx context.Context, id string) (fx.Receipt, error)
	QuoteByID(ctx context.Context, id string) (store.ReceiptQuote, error)
}

// AuditStore says how far the log is sealed and verified (the Integrity
// page).
type AuditStore interface {
	LatestSeal(ctx context.Context) (audit.Seal, bool, error)
	OldestUnsealed(ctx context.Context) (time.Time, bool, error)
	LatestVerification(ctx context.Context) (store.Verification, bool, error)
	AuditSeqGaps(ctx context.Context, limit int) (store.SeqGaps, error)
}

// KeyStore lists, issues and revokes API keys (the Keys page) and names
// the key a receipt was made with (the Conversions page).
type KeyStore interface {
	APIKeys(ctx context.Context) ([]clients.Key, error)
	APIKeyByID(ctx context.Context, id string) (clients.Key, error)
	CreateAPIKey(ctx context.Context, k clients.Key, hash string) error
	RevokeAPIKey(ctx context.Context, id, by, reason string) error
}

// UserStore keeps the console's users, their sessions and the log of
// what they did.
type UserStore interface {
	AdminCredentials(ctx context.Context, username string) (store.AdminUser, string, error)
	AdminUser(ctx context.Context, id int64) (store.AdminUser, error)
	AdminUsers(ctx context.Context) ([]store.AdminUser, error)
	CreateAdminUser(ctx context.Context, n store.NewAdminUser) (store.AdminUser, error)
	SetAdminRole(ctx context.Context, id int64, role, by, reason string) error
	SetAdminDisabled(ctx context.Context, id int64, disabled bool, by, reason string) error
	CreateSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error
	SessionByToken(ctx context.Context, tokenHash string, now time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, tokenHash string, now time.Time) error
	RecordAdminAction(ctx context.Context, a store.AdminAction) error
	AdminActions(ctx context.Context, limit int) ([]store.AdminAction, error)
}
