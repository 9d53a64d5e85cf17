package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"ces/internal/audit"
	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/migrations"
)

// monthStart is the first instant (UTC) of the month n months from t's.
func monthStart(t time.Time, n int) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(m time.Time) string {
	return fmt.Sprintf("conversion_audits_%04d_%02d", m.Year(), m.Month())
}

// receiptAt is a copy of template as a new conversion created at at, with
// its hash recomputed: a receipt a clock at that instant would have made.
func receiptAt(template fx.Receipt, at time.Time) fx.Receipt {
	r := template
	r.ID, r.RequestID, r.CreatedAt = uuid.NewString(), "req-"+uuid.NewString(), at.UTC().Truncate(time.Microsecond)
	r.Legs = append([]fx.Rate(nil), template.Legs...)
	r.Hash = audit.ReceiptHash(r)
	return r
}

func partitionOf(t *testing.T, db *bun.DB, id string) string {
	t.Helper()
	var name string
	if err := db.NewRaw("SELECT tableoid::regclass::text FROM conversion_audits WHERE id = ?", id).Scan(context.Background(), &name); err != nil {
		t.Fatalf("partition of %s: %v", id, err)
	}
	return name
}

func partitions(t *testing.T, db *bun.DB) map[string]bool {
	t.Helper()
	var names []string
	if err := db.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'conversion_audits'::regclass`).Scan(context.Background(), &names); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

func constraintOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// TestAuditLogPartitions places receipts by month, keeps every partition
// append-only, and seals and verifies one window whose rows lie in four
// partitions.
func TestAuditLogPartitions(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	db := st.DB()
	template := testenv.SeedReceipts(t, st, 1)[0]
	now := time.Now().UTC()

	have := partitions(t, db)
	for _, want := range []string{"conversion_audits_initial", "conversion_audits_default",
		partitionName(monthStart(now, 1)), partitionName(monthStart(now, 2)), partitionName(monthStart(now, 3))} {
		if !have[want] {
			t.Errorf("partition %s missing; have %v", want, have)
		}
	}
	made, err := st.Audit.MakeAuditPartitions(ctx, store.AuditPartitionsAhead)
	if err != nil || len(made) != 0 {
		t.Fatalf("a second run made %v, %v; want nothing", made, err)
	}

	// A receipt of a month with no partition yet goes to the default one,
	// and that month is then skipped: its rows stay where they are.
	early := receiptAt(template, monthStart(now, 6).Add(time.Hour))
	if err := st.InsertReceipts(ctx, []fx.Receipt{early}); err != nil {
		t.Fatal(err)
	}
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)
	made, err = st.Audit.MakeAuditPartitions(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{partitionName(monthStart(now, 4)), partitionName(monthStart(now, 5)), partitionName(monthStart(now, 7))}; strings.Join(made, ",") != strings.Join(want, ",") {
		t.Fatalf("made %v, want %v (month +6 holds a row in the default partition)", made, want)
	}

	cases := []struct {
		name string
		at   time.Time
		want string
	}{
		{"the last instant before next month", monthStart(now, 1).Add(-time.Microsecond), "conversion_audits_initial"},
		{"the first instant of next month", monthStart(now, 1), partitionName(monthStart(now, 1))},
		{"the middle of the month after", monthStart(now, 2).Add(15 * 24 * time.Hour), partitionName(monthStart(now, 2))},
		{"a clock decades ahead", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), "conversion_audits_default"},
	}
	var placed []fx.Receipt
	for _, c := range cases {
		placed = append(placed, receiptAt(template, c.at))
	}
	// One statement: the receipts are written by one transaction, so one
	// seal window holds rows of four partitions.
	if err := st.InsertReceipts(ctx, placed); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := partitionOf(t, db, placed[i].ID); got != c.want {
				t.Errorf("stored in %s, want %s", got, c.want)
			}
		})
	}
	if got := partitionOf(t, db, early.ID); got != "conversion_audits_default" {
		t.Errorf("the early receipt moved to %s", got)
	}

	seals := sealing.SealAll(t, st)
	var last audit.Seal
	for _, s := range seals {
		last = s
	}
	if last.RowCount != int64(len(placed)) {
		t.Errorf("the last seal covers %d rows, want the %d of one transaction", last.RowCount, len(placed))
	}
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != int64(len(placed)+2) {
		t.Fatalf("verify = %+v, want clean over %d rows", rep, len(placed)+2)
	}

	for _, p := range []string{"conversion_audits_initial", partitionName(monthStart(now, 1)), partitionName(monthStart(now, 2)), "conversion_audits_default"} {
		for _, stmt := range []string{"UPDATE " + p + " SET amount = 1", "DELETE FROM " + p, "TRUNCATE " + p} {
			t.Run(stmt, func(t *testing.T) {
				_, err := db.ExecContext(ctx, stmt)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s: err = %v, want a refusal", stmt, err)
				}
			})
		}
	}
}

// TestAuditUniquenessAcrossPartitions: what global unique indexes
// guaranteed holds across months: one receipt per idempotency key and per
// quote, and a seq only the identity draws.
func TestAuditUniquenessAcrossPartitions(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	template := testenv.SeedReceipts(t, st, 1)[0]
	now := time.Now().UTC()

	t.Run("idempotency key", func(t *testing.T) {
		first := receiptAt(template, now)
		first.IdempotencyKey = "order-77"
		first.Hash = audit.ReceiptHash(first)
		if err := st.InsertReceipts(ctx, []fx.Receipt{first}); err != nil {
			t.Fatal(err)
		}
		again := receiptAt(first, monthStart(now, 2))
		err := st.InsertReceipts(ctx, []fx.Receipt{again})
		if got := constraintOf(err); got != "conversion_idempotency_keys_key" {
			t.Fatalf("the key used again next month: err = %v, want conversion_idempotency_keys_key", err)
		}
		got, err := st.Conversions.ConversionByKey(ctx, "", "order-77")
		if err != nil || got.ID != first.ID {
			t.Fatalf("by key: %s, %v; want %s", got.ID, err, first.ID)
		}
	})

	t.Run("quote", func(t *testing.T) {
		k, _, hash, err := clients.NewKey("partition test", []string{clients.ScopeConvert}, 0, "test", now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Keys.CreateAPIKey(ctx, k, hash); err != nil {
			t.Fatal(err)
		}
		q := fx.LockedQuote{ID: uuid.NewString(), APIKeyID: k.ID, CreatedAt: now.Truncate(time.Microsecond), ExpiresAt: now.Add(time.Minute).Truncate(time.Microsecond), Pricing: template.Pricing}
		if err := st.Conversions.InsertQuote(ctx, q); err != nil {
			t.Fatal(err)
		}
		first := receiptAt(template, now)
		first.QuoteID, first.APIKeyID = q.ID, k.ID
		first.Hash = audit.ReceiptHash(first)
		if err := st.InsertReceipts(ctx, []fx.Receipt{first}); err != nil {
			t.Fatal(err)
		}
		again := receiptAt(first, monthStart(now, 1))
		if err := st.InsertReceipts(ctx, []fx.Receipt{again}); constraintOf(err) != "conversion_quote_uses_quote_id" {
			t.Fatalf("the quote executed again next month: err = %v, want conversion_quote_uses_quote_id", err)
		}
		story, err := st.Conversions.QuoteByID(ctx, q.ID)
		if err != nil || story.ExecutedBy != first.ID {
			t.Fatalf("quote executed by %q, %v; want %s", story.ExecutedBy, err, first.ID)
		}
	})

	t.Run("seq not drawn by the identity", func(t *testing.T) {
		err := st.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE copy ON COMMIT DROP AS
				SELECT * FROM conversion_audits WHERE id = ?`, template.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE copy SET id = gen_random_uuid(), created_at = created_at + interval '1 month'`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO conversion_audits OVERRIDING SYSTEM VALUE SELECT * FROM copy`)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "was not drawn by its identity") {
			t.Fatalf("a copied seq: err = %v, want a refusal", err)
		}
	})
}

func TestPruneIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	template := testenv.SeedReceipts(t, st, 1)[0]
	old, recent := receiptAt(template, time.Now().Add(-40*24*time.Hour)), receiptAt(template, time.Now().Add(-time.Hour))
	old.IdempotencyKey, recent.IdempotencyKey = "old-key", "recent-key"
	old.Hash, recent.Hash = audit.ReceiptHash(old), audit.ReceiptHash(recent)
	if err := st.InsertReceipts(ctx, []fx.Receipt{old, recent}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Audit.PruneIdempotencyKeys(ctx, 30*time.Minute); err == nil {
		t.Fatal("a retention under an hour was accepted")
	}
	n, err := st.Audit.PruneIdempotencyKeys(ctx, 30*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the one key older than 30 days", n, err)
	}
	if _, err := st.Conversions.ConversionByKey(ctx, "", "old-key"); !errors.Is(err, fx.ErrConversionNotFound) {
		t.Errorf("a forgotten key still finds a receipt: %v", err)
	}
	if got, err := st.Conversions.ConversionByKey(ctx, "", "recent-key"); err != nil || got.ID != recent.ID {
		t.Errorf("the recent key: %s, %v", got.ID, err)
	}
	// The receipt keeps its key, and the log still verifies.
	if got, err := st.Conversions.ConversionByID(ctx, old.ID); err != nil || got.IdempotencyKey != "old-key" {
		t.Errorf("the old receipt: key %q, %v", got.IdempotencyKey, err)
	}
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)
	if rep := sealing.Verify(t, st, true); !rep.OK() {
		t.Fatalf("verify after pruning: %+v", rep)
	}
}

// TestPartitioningKeepsAnExistingLog applies the partitioning migration to
// a sealed log written under the schema before it: the rows stay (as the
// first partition), the chain verifies, and new receipts continue it.
func TestPartitioningKeepsAnExistingLog(t *testing.T) {
	ctx := context.Background()
	db := dbBefore(t, "20261128000019", 4)
	st := store.New(db)
	written := testenv.SeedReceipts(t, st, 3)
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)

	if _, err := migrations.Run(ctx, db, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, r := range written {
		if got := partitionOf(t, db, r.ID); got != "conversion_audits_initial" {
			t.Errorf("receipt %s is in %s, want the first partition", r.ID, got)
		}
	}
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != 3 {
		t.Fatalf("verify after partitioning: %+v", rep)
	}
	more := testenv.SeedReceipts(t, st, 2)
	var seqs []int64
	if err := db.NewRaw("SELECT seq FROM conversion_audits ORDER BY seq").Scan(ctx, &seqs); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 5 || seqs[3] <= seqs[2] {
		t.Fatalf("seqs %v: new receipts must continue the old numbering", seqs)
	}
	sealing.SealAll(t, st)
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.Rows != 5 {
		t.Fatalf("verify after new receipts: %+v (new %s, %s)", rep, more[0].ID, more[1].ID)
	}
}
