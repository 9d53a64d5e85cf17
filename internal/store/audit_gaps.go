package store

import (
	"context"
	"fmt"
)

// SeqGap is a run of audit sequence numbers no stored row holds, First
// to Last inclusive.
type SeqGap struct {
	First, Last int64
}

// Size is how many numbers the gap holds.
func (g SeqGap) Size() int64 { return g.Last - g.First + 1 }

// SeqGaps describes the sequence numbers of the audit log: the rows
// stored, the highest number they hold, how many numbers from 1 to it no
// row holds, in how many runs, and the first runs, by number.
type SeqGaps struct {
	Rows    int64
	LastSeq int64
	Missing int64
	Runs    int64
	First   []SeqGap
}

// AuditSeqGaps reads the audit log's sequence numbers and lists the
// first limit runs of numbers that no row holds. A number goes unused
// when the transaction that drew it rolled back (see the Integrity page);
// rows are never deleted (the table refuses it), and verify-audit would
// notice one that was.
func (s *Audit) AuditSeqGaps(ctx context.Context, limit int) (SeqGaps, error) {
	var out SeqGaps
	err := s.db.NewRaw(`SELECT count(*), coalesce(max(seq), 0) FROM conversion_audits`).Scan(ctx, &out.Rows, &out.LastSeq)
	if err != nil {
		return out, fmt.Errorf("store: audit sequence: %w", err)
	}
	if out.Missing = out.LastSeq - out.Rows; out.Missing <= 0 {
		return out, nil
	}
	// Identity columns start at 1: a 0 before the first row makes numbers
	// drawn before the first stored row a run too.
	var runs []struct {
		First int64 `bun:"first"`
		Last  int64 `bun:"last"`
		Runs  int64 `bun:"runs"`
	}
	err = s.db.NewRaw(`SELECT first, last, count(*) OVER () AS runs FROM (
			SELECT seq + 1 AS first, next - 1 AS last FROM (
				SELECT seq, lead(seq) OVER (ORDER BY seq) AS next
				FROM (SELECT 0::bigint AS seq UNION ALL SELECT seq FROM conversion_audits) AS s
			) AS n WHERE next > seq + 1
		) AS g ORDER BY first LIMIT ?`, limit).Scan(ctx, &runs)
	if err != nil {
		return out, fmt.Errorf("store: audit sequence gaps: %w", err)
	}
	for _, r := range runs {
		out.First = append(out.First, SeqGap{First: r.First, Last: r.Last})
		out.Runs = r.Runs
	}
	return out, nil
}
