// Package store is the only package that speaks SQL: it opens the bun
// database over pgx and reads and writes the CES tables, one type per
// domain, each over the same *bun.DB:
//
//   - Rates: exchange_rates, written by ingestion through the quality
//     gate's verdicts (Origin.Judge) and read by every lookup, the history
//     cache and the console's Data page (rates.go, history.go, admin.go);
//   - Quality: the gate's quarantines and the decisions on them, and pair
//     suspensions (quality.go);
//   - Conversions: receipts and quotes, each write checked against the
//     rate rows it names in the same transaction, and the probe that
//     conversions can be written (conversions.go, quotes.go, pricing.go,
//     CanWrite in store.go, the console's page of receipts in admin.go);
//   - Audit: seals, signing keys and verification runs (audit.go);
//   - Keys: API clients' keys (apikeys.go);
//   - Console: the console's users, sessions and the log of operators'
//     actions (adminusers.go, admin.go);
//   - logins: the database logins the services connect as, made by the
//     migrations' owner, and the check each service makes at start that
//     its own login is neither a superuser nor the tables' owner
//     (logins.go, functions of a *bun.DB, since they run before any
//     store is opened).
//
// Why types in one package rather than a package per domain: the domains
// share one schema and cross it in single statements (a receipt's write
// reads the rate rows and quarantines it is checked against; verification
// reads receipts and the rates they cite), so the row types and SQL
// fragments stay unexported in one place, while each domain is its own
// type with only its own methods (as benbjohnson/wtf does with one
// service type per domain in its adapter). Services never take the
// whole Store: each declares the small interface it uses, which one of
// these types satisfies, so a reader sees from a service's fields which
// tables it touches, and its branching logic is tested without
// PostgreSQL. Only wiring (the mains, admin.StoresOf, tests) holds a
// *Store.
//
// No policy is decided here: the quality gate's verdict on a new rate
// and the cascade after a release are functions the caller passes
// (package gate, over package policy); the store gathers their evidence
// and records the verdicts inside its transactions. It uses policy's
// types (a Finding, a Series) to carry them.
package store
