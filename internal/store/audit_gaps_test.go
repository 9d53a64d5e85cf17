package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"ces/internal/store"
	"ces/internal/testenv"
)

// TestAuditSeqGaps checks the runs of sequence numbers no audit row holds
// are found, counted and listed from the lowest, with a limit. A number is
// drawn without a row the way a rolled-back conversion draws one: from the
// identity column's sequence, outside any insert that commits.
func TestAuditSeqGaps(t *testing.T) {
	tests := []struct {
		name string
		// steps: 'r' stores a receipt, 'x' draws a number and leaves it unused.
		steps string
		limit int
		want  store.SeqGaps
	}{
		{name: "empty", steps: "", limit: 5, want: store.SeqGaps{}},
		{name: "contiguous", steps: "rrr", limit: 5, want: store.SeqGaps{Rows: 3, LastSeq: 3}},
		{name: "unused number after the last row is no gap yet", steps: "rrx", limit: 5, want: store.SeqGaps{Rows: 2, LastSeq: 2}},
		{name: "one gap", steps: "rxr", limit: 5, want: store.SeqGaps{Rows: 2, LastSeq: 3, Missing: 1, Runs: 1, First: []store.SeqGap{{First: 2, Last: 2}}}},
		{name: "before the first row", steps: "xxr", limit: 5, want: store.SeqGaps{Rows: 1, LastSeq: 3, Missing: 2, Runs: 1, First: []store.SeqGap{{First: 1, Last: 2}}}},
		{name: "runs beyond the limit are counted", steps: "rxrxxrxr", limit: 2,
			want: store.SeqGaps{Rows: 4, LastSeq: 8, Missing: 4, Runs: 3, First: []store.SeqGap{{First: 2, Last: 2}, {First: 4, Last: 5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := testenv.DB(t)
			st := store.New(db)
			for _, step := range tt.steps {
				switch step {
				case 'r':
					testenv.SeedReceipts(t, st, 1)
				case 'x':
					if _, err := db.ExecContext(ctx, "SELECT nextval(pg_get_serial_sequence('conversion_audits', 'seq'))"); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := st.Audit.AuditSeqGaps(ctx, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || !slices.Equal(got.First, tt.want.First) {
				t.Fatalf("gaps = %+v, want %+v", got, tt.want)
			}
		})
	}
}
