package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/testenv"
)

func TestAuditTablesRefuseChanges(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	testenv.SeedReceipts(t, st, 2)
	testenv.NewSealing(t).SealAll(t, st)
	for _, stmt := range []string{
		"UPDATE conversion_audits SET amount = 1",
		"DELETE FROM conversion_audits",
		"TRUNCATE conversion_audits CASCADE",
		"UPDATE audit_seals SET row_count = 1",
		"DELETE FROM audit_seals",
		"TRUNCATE audit_seals",
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := st.DB().ExecContext(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: err = %v, want a refusal", stmt, err)
			}
		})
	}
}

func TestSealAndVerify(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	sealing := testenv.NewSealing(t)

	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != 0 {
		t.Fatalf("empty log: %+v", rep)
	}
	receipts := testenv.SeedReceipts(t, st, 3)
	first := sealing.SealAll(t, st)
	if len(first) == 0 || first[0].PrevSealHash != audit.GenesisSealHash {
		t.Fatalf("first seals = %+v", first)
	}
	if _, sealed, err := st.Audit.Seal(ctx, "seal-2", "run", time.Now(), sealing.Signer); err != nil || sealed {
		t.Fatalf("a seal with nothing new: sealed=%v err=%v", sealed, err)
	}
	testenv.SeedReceipts(t, st, 2)
	second := sealing.SealAll(t, st)
	last := first[len(first)-1]
	if len(second) == 0 || second[0].PrevSealHash != last.SealHash || second[0].XminFrom != last.XminTo {
		t.Fatalf("second seals = %+v (after %+v)", second, last)
	}
	var covered int64
	for _, s := range append(first, second...) {
		covered += s.RowCount
	}
	if covered != 5 {
		t.Fatalf("seals cover %d rows, want 5", covered)
	}
	testenv.SeedReceipts(t, st, 1)
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != 6 || rep.Seals != int64(len(first)+len(second)) || rep.Unsealed != 1 {
		t.Fatalf("verify = %+v", rep)
	}
	// Incremental: after a clean run, the next one checks only what is
	// not covered by the seal it ended at.
	if rep := sealing.Verify(t, st, false); !rep.OK() || rep.From != second[len(second)-1].ID || rep.Rows != 1 {
		t.Fatalf("incremental verify = %+v, want only the unsealed row after seal %d", rep, second[len(second)-1].ID)
	}
	latest, ok, err := st.Audit.LatestSeal(ctx)
	if err != nil || !ok || latest.ID != second[len(second)-1].ID {
		t.Fatalf("latest seal = %+v %v %v", latest, ok, err)
	}

	t.Run("a changed row is named", func(t *testing.T) {
		// A superuser can switch triggers off; the hashes still notice.
		testenv.AsOwner(t, st.DB(), "UPDATE conversion_audits SET converted_amount = converted_amount + 1 WHERE id = ?", receipts[1].ID)
		if rep := sealing.Verify(t, st, true); rep.OK() || !strings.Contains(rep.Problem, receipts[1].ID) {
			t.Fatalf("verify = %+v; want it to name row %s", rep, receipts[1].ID)
		}
	})
}

func TestVerifyNamesTamperedSeal(t *testing.T) {
	tests := []struct {
		name, stmt, want string
	}{
		{"digest rewritten", "UPDATE audit_seals SET rows_sha256 = repeat('0', 64) WHERE id = (SELECT min(id) FROM audit_seals)", "seal "},
		{"row deleted", "DELETE FROM conversion_audits WHERE seq = (SELECT min(seq) FROM conversion_audits)", "seal "},
		{"hash rewritten with the row", "UPDATE conversion_audits SET amount = 2, hash = repeat('b', 64) WHERE seq = (SELECT min(seq) FROM conversion_audits)", "audit row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.New(testenv.DB(t))
			testenv.SeedReceipts(t, st, 3)
			sealing := testenv.NewSealing(t)
			sealing.SealAll(t, st)
			testenv.AsOwner(t, st.DB(), tt.stmt)
			if rep := sealing.Verify(t, st, true); rep.OK() || !strings.Contains(rep.Problem, tt.want) {
				t.Fatalf("verify = %+v; want a problem naming %q", rep, tt.want)
			}
		})
	}
}

// TestVerifyRecomputesEveryReceipt: a row written with a figure that its
// legs, margin and rounding do not give, but with a correct self-hash
// (what anyone holding an INSERT grant could forge), is named by the
// verifier, sealed or not.
func TestVerifyRecomputesEveryReceipt(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	good := testenv.SeedReceipts(t, st, 2)
	forged := good[1]
	forged.ID, forged.RequestID = "0192f3a0-0000-7000-8000-0000000000f0", "req-forged"
	forged.ConvertedAmount = forged.ConvertedAmount.Add(decimal.New(1, -2))
	forged.Hash = audit.ReceiptHash(forged)
	if _, _, err := st.Conversions.RecordConversion(ctx, forged); err != nil {
		t.Fatal(err)
	}
	rep := testenv.NewSealing(t).Verify(t, st, true)
	if rep.OK() || !strings.Contains(rep.Problem, forged.ID) || !strings.Contains(rep.Problem, "converted_amount is "+forged.ConvertedAmount.String()) {
		t.Fatalf("verify-audit = %+v, want it to name row %s and its converted_amount", rep, forged.ID)
	}
}

// TestOldestUnsealed follows the age the seal-freshness metric reports:
// nothing before any conversion, the oldest row's time while rows wait
// for a seal, nothing again once they are sealed.
func TestOldestUnsealed(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	if _, ok, err := st.Audit.OldestUnsealed(ctx); err != nil || ok {
		t.Fatalf("empty log: unsealed %v, %v", ok, err)
	}
	seeded := testenv.SeedReceipts(t, st, 2)
	at, ok, err := st.Audit.OldestUnsealed(ctx)
	if err != nil || !ok || !at.Equal(seeded[0].CreatedAt) {
		t.Fatalf("oldest unsealed = %v %v %v, want the first row's %v", at, ok, err, seeded[0].CreatedAt)
	}
	testenv.NewSealing(t).SealAll(t, st)
	if at, ok, err := st.Audit.OldestUnsealed(ctx); err != nil || ok {
		t.Fatalf("after sealing: oldest unsealed %v %v %v", at, ok, err)
	}
}

// TestVerifyNamesEveryTampering tampers with the log as the database
// owner (the one who can switch the triggers off) in each of the ways
// the owner's credentials allow, and expects verify-audit to name it.
func TestVerifyNamesEveryTampering(t *testing.T) {
	type fixture struct {
		st       *store.Store
		sealing  *testenv.Sealing
		receipts []fx.Receipt
		seals    []audit.Seal
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, f fixture)
		want   string
	}{
		{"a changed amount", func(t *testing.T, f fixture) {
			testenv.AsOwner(t, f.st.DB(), "UPDATE conversion_audits SET amount = amount * 2 WHERE id = ?", f.receipts[0].ID)
		}, "audit row " + "%r0"},
		{"the newest seal deleted with its rows", func(t *testing.T, f fixture) {
			newest := f.seals[len(f.seals)-1]
			testenv.AsOwner(t, f.st.DB(), "DELETE FROM conversion_audits WHERE seq BETWEEN ? AND ?", newest.FirstSeq, newest.LastSeq)
			testenv.AsOwner(t, f.st.DB(), "DELETE FROM audit_seals WHERE id = ?", newest.ID)
		}, "missing tail: seals %sN"},
		{"an unsealed row deleted", func(t *testing.T, f fixture) {
			extra := testenv.SeedReceipts(t, f.st, 1)
			testenv.AsOwner(t, f.st.DB(), "DELETE FROM conversion_audits WHERE id = ?", extra[0].ID)
		}, "conversion_audits: PostgreSQL counted 0 updated and 1 deleted rows"},
		{"a rewritten row under a recomputed, re-signed chain", func(t *testing.T, f fixture) {
			r := f.receipts[0]
			r.ClientAddress = "10.6.6.6"
			testenv.AsOwner(t, f.st.DB(), "UPDATE conversion_audits SET client_address = ?, hash = ? WHERE id = ?", r.ClientAddress, audit.ReceiptHash(r), r.ID)
			forgeChain(t, f.st)
		}, "seal %s0: signed with key"},
		{"an anchor file removed", func(t *testing.T, f fixture) {
			if len(f.seals) < 2 {
				testenv.SeedReceipts(t, f.st, 1)
				f.sealing.SealAll(t, f.st)
			}
			first := filepath.Join(f.sealing.Dir, "seals", "000000000", fmt.Sprintf("%012d.json", f.seals[0].ID))
			if err := os.Remove(first); err != nil {
				t.Fatal(err)
			}
		}, "seal %s0: in the database but not in the anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.New(testenv.DB(t))
			f := fixture{st: st, sealing: testenv.NewSealing(t), receipts: testenv.SeedReceipts(t, st, 3)}
			f.seals = f.sealing.SealAll(t, st)
			if rep := f.sealing.Verify(t, st, false); !rep.OK() {
				t.Fatalf("before tampering: %+v", rep)
			}
			tt.tamper(t, f)
			want := strings.NewReplacer("%r0", f.receipts[0].ID, "%s0", fmt.Sprint(f.seals[0].ID), "%sN", fmt.Sprint(f.seals[len(f.seals)-1].ID)).Replace(tt.want)
			// Both an incremental run, resuming after the clean one above,
			// and a full one name it.
			for _, full := range []bool{false, true} {
				if rep := f.sealing.Verify(t, st, full); rep.OK() || !strings.Contains(rep.Problem, want) {
					t.Fatalf("full=%v: verify = %q, want it to name %q", full, rep.Problem, want)
				}
			}
		})
	}
}

// forgeChain recomputes every seal from the rows as they are now and signs
// it with a key of the forger's, published in audit_signing_keys: a
// chain that is self-consistent in every way the database can show.
func forgeChain(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	private, _, _, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := audit.ParsePrivateKey(private)
	forger := audit.NewSigner(key)
	pub, _ := audit.EncodePublicKey(forger.PublicKey())
	if err := st.Audit.RegisterSigningKey(ctx, forger.KeyID(), pub); err != nil {
		t.Fatal(err)
	}
	seals, err := st.Audit.Seals(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.GenesisSealHash
	for _, s := range seals {
		var rows []audit.SealedRow
		if err := st.DB().NewRaw("SELECT seq, hash FROM conversion_audits WHERE seq BETWEEN ? AND ? ORDER BY seq", s.FirstSeq, s.LastSeq).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		s.RowsSHA256, s.PrevSealHash = audit.RowsDigest(rows), prev
		s.SealHash = s.ComputeHash()
		forger.Sign(&s)
		testenv.AsOwner(t, st.DB(), "UPDATE audit_seals SET rows_sha256 = ?, prev_seal_hash = ?, seal_hash = ?, key_id = ?, signature = ? WHERE id = ?",
			s.RowsSHA256, s.PrevSealHash, s.SealHash, s.KeyID, s.Signature, s.ID)
		prev = s.SealHash
	}
	// Self-consistent: with the forger's key trusted, the chain checks.
	forged, err := st.Audit.Seals(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, problem := audit.CheckChain(forged, audit.Keys{forger.KeyID(): forger.PublicKey()}); problem != "" {
		t.Fatalf("the forged chain is not self-consistent: %s", problem)
	}
}

// TestReceiptsKeepHowTheyWereComputed: a new receipt stores its minor
// units and rate precision and reads back with them (v3); one written
// before they were recorded (v2) still verifies against the tables.
func TestReceiptsKeepHowTheyWereComputed(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	seeded := testenv.SeedReceipts(t, st, 1)[0]
	got, err := st.Conversions.ConversionByID(ctx, seeded.ID)
	if err != nil || got.MinorUnits != 2 || got.RatePrecision != fx.DerivedSignificantDigits || !strings.HasPrefix(audit.Canonical(got), "ces-receipt=v3\n") {
		t.Fatalf("read back %+v, %v; want minor units 2 and precision %d (v3)", got, err, fx.DerivedSignificantDigits)
	}
	older := seeded
	older.ID, older.RequestID, older.MinorUnits, older.RatePrecision = "0192f3a0-0000-7000-8000-0000000000f2", "req-v2", 0, 0
	older.Hash = audit.ReceiptHash(older)
	if _, _, err := st.Conversions.RecordConversion(ctx, older); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Conversions.ConversionByID(ctx, older.ID); err != nil || got.RatePrecision != 0 || got.Hash != audit.ReceiptHash(got) {
		t.Fatalf("v2 receipt read back as %+v, %v", got, err)
	}
	if rep := testenv.NewSealing(t).Verify(t, st, true); !rep.OK() || rep.Rows != 2 {
		t.Fatalf("verify = %+v", rep)
	}
}

// TestResumePointIsTheAnchors: an incremental run resumes from the
// newest clean run recorded in the anchor, not from audit_verifications,
// which the database's owner can append to. Here the owner rewrites a row
// of a seal never verified, hides PostgreSQL's counters and records a fake
// clean run ending at that seal: the incremental run still names the row.
func TestResumePointIsTheAnchors(t *testing.T) {
	st := store.New(testenv.DB(t))
	sealing := testenv.NewSealing(t)
	testenv.SeedReceipts(t, st, 2)
	sealing.SealAll(t, st) // verified: the anchor records its last seal
	later := testenv.SeedReceipts(t, st, 2)
	var newest audit.Seal
	for deadline := time.Now().Add(30 * time.Second); ; {
		if seal, sealed := sealing.Seal(t, st); sealed {
			newest = seal
		}
		if newest.ID != 0 && newest.LastSeq >= int64(len(later)+2) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := later[0]
	r.ClientAddress = "10.6.6.6"
	testenv.AsOwner(t, st.DB(), "UPDATE conversion_audits SET client_address = ? WHERE id = ?", r.ClientAddress, r.ID)
	testenv.AsOwner(t, st.DB(), "SELECT pg_stat_reset_single_table_counters('conversion_audits'::regclass)")
	testenv.AsOwner(t, st.DB(), `INSERT INTO audit_verifications (verified_at, full_run, seal_id, seal_hash, seals, rows_checked, unsealed, problem, started_by)
		VALUES (now(), true, ?, ?, 2, 4, 0, '', 'a forger')`, newest.ID, newest.SealHash)
	if rep := sealing.Verify(t, st, false); rep.OK() || !strings.Contains(rep.Problem, "audit row "+r.ID) {
		t.Fatalf("incremental run after a faked resume point: %q (resumed after seal %d), want it to name %s", rep.Problem, rep.From, r.ID)
	}
}

// TestStaleFlagIsVerified: receipts and quotes that record whether they
// were priced from a stale rate (ces-receipt v6, ces-quote v2) verify
// beside older ones that do not (NULL), and a flag flipped in the
// database is named.
func TestStaleFlagIsVerified(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	seeded := testenv.SeedReceipts(t, st, 1)[0] // v3: before keys and the flag
	k, _, hash, err := clients.NewKey("stale test", []string{clients.ScopeConvert}, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Keys.CreateAPIKey(ctx, k, hash); err != nil {
		t.Fatal(err)
	}
	q := fx.LockedQuote{ID: "0192f3a0-0000-7000-8000-0000000000a1", APIKeyID: k.ID, CreatedAt: seeded.CreatedAt,
		ExpiresAt: seeded.CreatedAt.Add(time.Hour), Pricing: seeded.Pricing}
	q.Stale = fx.Flag(true)
	if err := st.Conversions.InsertQuote(ctx, q); err != nil {
		t.Fatal(err)
	}
	var made []fx.Receipt
	for i, quoteID := range []string{"", q.ID} {
		r := seeded
		r.ID, r.RequestID, r.APIKeyID, r.QuoteID = fmt.Sprintf("0192f3a0-0000-7000-8000-0000000000b%d", i), fmt.Sprintf("req-v6-%d", i), k.ID, quoteID
		r.IdempotencyKey, r.Stale = fmt.Sprintf("stale-%d", i), fx.Flag(quoteID != "")
		r.Hash = audit.ReceiptHash(r)
		if _, _, err := st.Conversions.RecordConversion(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := st.Conversions.ConversionByID(ctx, r.ID)
		if err != nil || got.Stale == nil || *got.Stale != *r.Stale || !strings.HasPrefix(audit.Canonical(got), "ces-receipt=v6\n") || got.Hash != audit.ReceiptHash(got) {
			t.Fatalf("v6 receipt read back as %+v, %v", got, err)
		}
		made = append(made, r)
	}
	if old, err := st.Conversions.ConversionByID(ctx, seeded.ID); err != nil || old.Stale != nil {
		t.Fatalf("the receipt from before the flag reads back as %+v, %v: want no flag", old, err)
	}
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != 3 {
		t.Fatalf("verify = %+v", rep)
	}
	testenv.AsOwner(t, st.DB(), "UPDATE conversion_audits SET stale = NOT stale WHERE id = ?", made[0].ID)
	if rep := sealing.Verify(t, st, true); rep.OK() || !strings.Contains(rep.Problem, made[0].ID) {
		t.Fatalf("verify after flipping the flag = %q, want it to name %s", rep.Problem, made[0].ID)
	}
}
