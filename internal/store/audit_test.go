package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/store"
	"ces/internal/testenv"
)

func TestAuditTablesRefuseChanges(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	testenv.SeedReceipts(t, st, 2)
	testenv.SealAll(t, st)
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

func TestAppRoleMayOnlyReadAndAppend(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	st := store.New(db)
	testenv.SeedReceipts(t, st, 1)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET ROLE ces_app"); err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"SELECT count(*) FROM conversion_audits",
		"SELECT count(*) FROM audit_seals",
		`INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
		 VALUES ('ecb', 'EUR', 'GBP', 0.86, now(), now(), 'w', 'r', repeat('a', 64))`,
	}
	for _, stmt := range allowed {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("ces_app was refused %q: %v", stmt, err)
		}
	}
	for _, stmt := range []string{
		"UPDATE conversion_audits SET amount = 1",
		"DELETE FROM exchange_rates",
		"ALTER TABLE conversion_audits DISABLE TRIGGER USER",
		"CREATE TABLE evil (id int)",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "denied") && !strings.Contains(err.Error(), "must be owner") {
			t.Fatalf("ces_app was allowed %q (err %v)", stmt, err)
		}
	}
	conn.ExecContext(ctx, "RESET ROLE")
}

func TestSealAndVerify(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))

	rep, err := st.VerifyAudit(ctx)
	if err != nil || !rep.OK() || rep.Rows != 0 {
		t.Fatalf("empty log: %+v %v", rep, err)
	}
	receipts := testenv.SeedReceipts(t, st, 3)
	first := testenv.SealAll(t, st)
	if len(first) == 0 || first[0].PrevSealHash != audit.GenesisSealHash {
		t.Fatalf("first seals = %+v", first)
	}
	if _, sealed, err := st.Seal(ctx, "seal-2", "run", time.Now()); err != nil || sealed {
		t.Fatalf("a seal with nothing new: sealed=%v err=%v", sealed, err)
	}
	testenv.SeedReceipts(t, st, 2)
	second := testenv.SealAll(t, st)
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
	rep, err = st.VerifyAudit(ctx)
	if err != nil || !rep.OK() || rep.Rows != 6 || rep.Seals != int64(len(first)+len(second)) || rep.Unsealed != 1 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	latest, ok, err := st.LatestSeal(ctx)
	if err != nil || !ok || latest.ID != second[len(second)-1].ID {
		t.Fatalf("latest seal = %+v %v %v", latest, ok, err)
	}

	tamper := func(t *testing.T, stmt string, args ...any) {
		t.Helper()
		conn, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// A superuser can switch triggers off; the hashes still notice.
		if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatal(err)
		}
		conn.ExecContext(ctx, "SET session_replication_role = DEFAULT")
	}
	t.Run("a changed row is named", func(t *testing.T) {
		tamper(t, "UPDATE conversion_audits SET converted_amount = converted_amount + 1 WHERE id = ?", receipts[1].ID)
		rep, err := st.VerifyAudit(ctx)
		if err != nil || rep.OK() || !strings.Contains(rep.Problem, receipts[1].ID) {
			t.Fatalf("verify = %+v, %v; want it to name row %s", rep, err, receipts[1].ID)
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
			ctx := context.Background()
			st := store.New(testenv.DB(t))
			testenv.SeedReceipts(t, st, 3)
			testenv.SealAll(t, st)
			conn, err := st.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, tt.stmt); err != nil {
				t.Fatal(err)
			}
			rep, err := st.VerifyAudit(ctx)
			if err != nil || rep.OK() || !strings.Contains(rep.Problem, tt.want) {
				t.Fatalf("verify = %+v, %v; want a problem naming %q", rep, err, tt.want)
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
	if _, _, err := st.RecordConversion(ctx, forged); err != nil {
		t.Fatal(err)
	}
	rep, err := st.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
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
	if _, ok, err := st.OldestUnsealed(ctx); err != nil || ok {
		t.Fatalf("empty log: unsealed %v, %v", ok, err)
	}
	seeded := testenv.SeedReceipts(t, st, 2)
	at, ok, err := st.OldestUnsealed(ctx)
	if err != nil || !ok || !at.Equal(seeded[0].CreatedAt) {
		t.Fatalf("oldest unsealed = %v %v %v, want the first row's %v", at, ok, err, seeded[0].CreatedAt)
	}
	testenv.SealAll(t, st)
	if at, ok, err := st.OldestUnsealed(ctx); err != nil || ok {
		t.Fatalf("after sealing: oldest unsealed %v %v %v", at, ok, err)
	}
}
