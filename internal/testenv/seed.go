package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/verifier"
)

// SeedReceipts stores one EUR→USD rate and n conversions priced from it,
// recorded the way the API records them.
func SeedReceipts(t testing.TB, st *store.Store, n int) []fx.Receipt {
	t.Helper()
	return SeedReceiptsWith(t, st, st, n)
}

// SeedReceiptsWith is SeedReceipts with the rate stored through rates and
// the conversions recorded through convs: two logins, as in production.
func SeedReceiptsWith(t testing.TB, rates, convs *store.Store, n int) []fx.Receipt {
	t.Helper()
	ctx := context.Background()
	asOf := time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC)
	set := fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: asOf, PayloadHash: strings.Repeat("a", 64),
		Rates: []fx.QuotedRate{{Quote: "USD", Value: decimal.RequireFromString("1.0565")}}}
	res, err := rates.Rates.InsertRates(ctx, set, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: asOf})
	if err != nil {
		t.Fatal(err)
	}
	usd, _ := fx.LookupCurrency("USD")
	var out []fx.Receipt
	for i := 0; i < n; i++ {
		amount := decimal.New(int64(100*(i+1)), -2)
		conv, err := fx.Convert(amount, res.Stored[0].Value, decimal.RequireFromString("0.005"), usd)
		if err != nil {
			t.Fatal(err)
		}
		r := fx.Receipt{
			ID: uuid.NewString(), CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			RequestID: fmt.Sprintf("req-%d", i), RequestSHA256: fx.RequestHash(amount, "EUR", "USD"),
			ClientAddress: "127.0.0.1",
			Pricing: fx.Pricing{
				Amount: amount, From: "EUR", To: "USD", MidRate: conv.MidRate, Margin: conv.Margin,
				AppliedRate: conv.AppliedRate, ConvertedAmount: conv.ConvertedAmount, Rounding: fx.Rounding,
				MinorUnits: usd.MinorUnits, RatePrecision: fx.DerivedSignificantDigits, Provider: "ecb", Rule: "direct",
				AsOf: asOf, Legs: res.Stored[:1],
			},
		}
		r.Hash = audit.ReceiptHash(r)
		if _, _, err := convs.Conversions.RecordConversion(ctx, r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Sealing is what a worker seals with in a test: a signing key (also in
// KeyFile, for worker binaries) and an anchor directory.
type Sealing struct {
	Signer  *audit.Signer
	Anchor  *anchor.Dir
	Dir     string
	KeyFile string
}

// NewSealing makes a new key and an empty anchor under t.TempDir().
func NewSealing(t testing.TB) *Sealing {
	t.Helper()
	private, _, _, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := audit.ParsePrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	keyFile := filepath.Join(tmp, "audit-signing.key")
	if err := os.WriteFile(keyFile, private, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "anchor")
	sink, err := anchor.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	signer := audit.NewSigner(key)
	if err := sink.PutKey(context.Background(), signer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	return &Sealing{Signer: signer, Anchor: sink, Dir: dir, KeyFile: keyFile}
}

// Verify runs verify-audit against s's anchor; full rechecks every row.
func (s *Sealing) Verify(t testing.TB, st *store.Store, full bool) store.VerifyReport {
	t.Helper()
	rep, _, err := verifier.Run(context.Background(), st.Audit, s.Anchor, time.Now, verifier.Options{Full: full, StartedBy: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Seal makes one seal, signed and anchored as the worker's SealAudit
// does; false when there was nothing to seal yet.
func (s *Sealing) Seal(t testing.TB, st *store.Store) (audit.Seal, bool) {
	t.Helper()
	ctx := context.Background()
	seal, sealed, err := st.Audit.Seal(ctx, "test-seal", "run", time.Now(), s.Signer)
	if err != nil {
		t.Fatal(err)
	}
	if sealed {
		if err := s.Anchor.Put(ctx, seal); err != nil {
			t.Fatal(err)
		}
	}
	return seal, sealed
}

// SealAll seals, signs and anchors until no audit row is left unsealed. A
// seal covers only transactions that completed before the oldest one
// still running in the whole PostgreSQL cluster, so while other tests run
// it may take a few rounds; it returns the seals it made.
func (s *Sealing) SealAll(t testing.TB, st *store.Store) []audit.Seal {
	t.Helper()
	var seals []audit.Seal
	deadline := time.Now().Add(30 * time.Second)
	for {
		if seal, sealed := s.Seal(t, st); sealed {
			seals = append(seals, seal)
		}
		rep := s.Verify(t, st, true)
		if !rep.OK() {
			t.Fatalf("audit log does not verify while sealing: %s", rep.Problem)
		}
		if rep.Unsealed == 0 {
			return seals
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d audit rows still unsealed after 30s", rep.Unsealed)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AsOwner runs stmt on db with the triggers off, as the owner of the
// tables (or a superuser) can, to tamper with history in a test; then it
// makes PostgreSQL publish the session's table statistics at once, as it
// would within seconds anyway.
func AsOwner(t testing.TB, db *bun.DB, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "SET session_replication_role = DEFAULT")
	if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
}
