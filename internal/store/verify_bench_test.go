package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/testenv"
)

// BenchmarkVerifyAudit times one full verify-audit run (chain, signatures,
// anchor, and every row's hash and figures recomputed) over a log of
// CES_BENCH_AUDIT_ROWS conversions (default 100,000; make bench runs a
// million) under one seal per 10,000 rows. Seeding is not timed. Run it
// once per size: go test -run '^$' -bench VerifyAudit -benchtime 1x ./internal/store
func BenchmarkVerifyAudit(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CES_BENCH_AUDIT_ROWS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st := store.New(testenv.DB(b))
	sealing := testenv.NewSealing(b)
	seed := testenv.SeedReceipts(b, st, 1)[0] // the rate row, and one real conversion
	usd, _ := fx.LookupCurrency("USD")
	const batch, perSeal = 2_000, 10_000
	for done := 1; done < n; {
		var rs []fx.Receipt
		for ; done < n && len(rs) < batch; done++ {
			amount := decimal.New(int64(100+done%100_000), -2)
			conv, err := fx.Convert(amount, seed.Legs[0].Value, seed.Margin, usd)
			if err != nil {
				b.Fatal(err)
			}
			r := seed
			r.ID, r.RequestID, r.Amount, r.RequestSHA256 = uuid.NewString(), fmt.Sprintf("bench-%d", done), amount, fx.RequestHash(amount, "EUR", "USD")
			r.MidRate, r.AppliedRate, r.ConvertedAmount = conv.MidRate, conv.AppliedRate, conv.ConvertedAmount
			r.Hash = audit.ReceiptHash(r)
			rs = append(rs, r)
		}
		if err := st.InsertReceipts(ctx, rs); err != nil {
			b.Fatal(err)
		}
		if done%perSeal < batch || done == n {
			sealing.Seal(b, st)
		}
	}
	// What a row costs on disk, for the projection in docs/audit.md: the
	// partitions' heap (with TOAST) and their indexes.
	var heap, index int64
	if err := st.DB().NewRaw(`SELECT sum(pg_table_size(relid))::bigint, sum(pg_indexes_size(relid))::bigint
		FROM pg_partition_tree('conversion_audits') WHERE isleaf`).Scan(ctx, &heap, &index); err != nil {
		b.Fatal(err)
	}
	var floor time.Duration
	// The floor: every row of the log read by the client, in seq order,
	// checking nothing.
	b.Run("floor-read-every-row", func(b *testing.B) {
		for range b.N {
			rows, err := st.DB().QueryContext(ctx, "SELECT * FROM conversion_audits ORDER BY seq")
			if err != nil {
				b.Fatal(err)
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(any)
			}
			read := 0
			for rows.Next() {
				if err := rows.Scan(vals...); err != nil {
					b.Fatal(err)
				}
				read++
			}
			if err := rows.Err(); err != nil || read != n {
				b.Fatalf("read %d rows, %v", read, err)
			}
			rows.Close()
		}
		floor = b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(n)/floor.Seconds(), "rows/s")
	})
	b.Run("verify-full", func(b *testing.B) {
		var rep store.VerifyReport
		for range b.N {
			rep = sealing.Verify(b, st, true)
		}
		b.StopTimer()
		if !rep.OK() || rep.Rows != int64(n) {
			b.Fatalf("verify = %+v, want %d rows checked", rep, n)
		}
		perRun := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(n)/perRun.Seconds(), "rows/s")
		b.ReportMetric(perRun.Seconds()*1e6/float64(n), "s/1M-rows")
		if floor > 0 {
			b.ReportMetric(floor.Seconds()/perRun.Seconds(), "x-floor")
		}
		b.ReportMetric(float64(heap)/float64(n), "table-B/row")
		b.ReportMetric(float64(index)/float64(n), "index-B/row")
	})
}

// BenchmarkConversionInsert records conversions as the API does
// (RecordNewConversion: its one-message transaction, with a CES-made
// idempotency key) into the partitioned audit log and into the log as it
// was before partitioning (one table whose unique indexes held the keys,
// the quotes and the ids), two databases on the same server, with 8
// writers each, alternating twice and keeping each side's best. It
// reports both rates and their ratio (target: partitioned ≥ 0.9×).
// CES_BENCH_INSERT_ROWS per side and round (default 20,000).
func BenchmarkConversionInsert(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("CES_BENCH_INSERT_ROWS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	flatDB := dbBefore(b, "20261128000019", 16)
	partDB, err := store.Open(ctx, testenv.DatabaseURL(b), 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { partDB.Close() })
	sides := []struct {
		name string
		st   *store.Store
		best float64
	}{{name: "unpartitioned", st: store.New(flatDB)}, {name: "partitioned", st: store.New(partDB)}}
	const writers = 8
	for range b.N {
		for round := 0; round < 2; round++ {
			for i := range sides {
				side := &sides[i]
				seed := testenv.SeedReceipts(b, side.st, 1)[0]
				rs := make([]fx.Receipt, n)
				for j := range rs {
					r := seed
					r.ID, r.RequestID, r.IdempotencyKey = uuid.NewString(), fmt.Sprintf("bench-%d-%d", round, j), "ces-"+uuid.NewString()
					r.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
					r.Hash = audit.ReceiptHash(r)
					rs[j] = r
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				start := time.Now()
				for range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := next.Add(1) - 1; j < int64(n); j = next.Add(1) - 1 {
							if _, _, err := side.st.Conversions.RecordNewConversion(ctx, rs[j]); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatalf("%s: %v", side.name, err)
				}
				side.best = max(side.best, float64(n)/time.Since(start).Seconds())
			}
		}
	}
	b.ReportMetric(sides[0].best, "unpartitioned-rows/s")
	b.ReportMetric(sides[1].best, "partitioned-rows/s")
	var keys, keyRows int64
	if err := partDB.NewRaw(`SELECT pg_total_relation_size('conversion_idempotency_keys'), (SELECT count(*) FROM conversion_idempotency_keys)`).Scan(ctx, &keys, &keyRows); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(sides[1].best/sides[0].best, "x-unpartitioned")
	b.ReportMetric(float64(keys)/float64(max(keyRows, 1)), "keys-B/row")
}
