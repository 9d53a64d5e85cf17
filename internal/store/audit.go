package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/audit"
	"ces/internal/fx"
)

// sealRow is one row of audit_seals.
type sealRow struct {
	bun.BaseModel `bun:"table:audit_seals"`

	ID           int64     `bun:"id,pk,autoincrement"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	XminFrom     string    `bun:"xmin_from,type:xid8,notnull"`
	XminTo       string    `bun:"xmin_to,type:xid8,notnull"`
	RowCount     int64     `bun:"row_count,notnull"`
	FirstSeq     int64     `bun:"first_seq,notnull"`
	LastSeq      int64     `bun:"last_seq,notnull"`
	RowsSHA256   string    `bun:"rows_sha256,notnull"`
	PrevSealHash string    `bun:"prev_seal_hash,notnull"`
	SealHash     string    `bun:"seal_hash,notnull"`
	WorkflowID   string    `bun:"workflow_id,notnull"`
	RunID        string    `bun:"run_id,notnull"`
}

func (r sealRow) seal() (audit.Seal, error) {
	from, err1 := strconv.ParseUint(r.XminFrom, 10, 64)
	to, err2 := strconv.ParseUint(r.XminTo, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return audit.Seal{}, fmt.Errorf("seal %d: window: %w", r.ID, err)
	}
	return audit.Seal{
		ID: r.ID, CreatedAt: r.CreatedAt.UTC(), XminFrom: from, XminTo: to, RowCount: r.RowCount,
		FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, RowsSHA256: r.RowsSHA256, PrevSealHash: r.PrevSealHash, SealHash: r.SealHash,
	}, nil
}

// LatestSeal returns the newest seal, or false when there is none.
func (s *Store) LatestSeal(ctx context.Context) (audit.Seal, bool, error) {
	var row sealRow
	err := s.db.NewSelect().Model(&row).OrderExpr("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Seal{}, false, nil
	}
	if err != nil {
		return audit.Seal{}, false, fmt.Errorf("store: latest seal: %w", err)
	}
	seal, err := row.seal()
	return seal, err == nil, err
}

// xminOf reads the xmin of a pg_snapshot's text form "xmin:xmax:xip,…".
func xminOf(snapshot string) (uint64, error) {
	head, _, _ := strings.Cut(snapshot, ":")
	return strconv.ParseUint(head, 10, 64)
}

// Seal appends a seal covering every audit row written by a transaction
// that completed since the previous seal's horizon. It reports false when
// there was nothing to seal. Two concurrent sealers cannot fork the chain:
// prev_seal_hash is unique, so the second fails and, retried, seals after
// the first.
func (s *Store) Seal(ctx context.Context, workflowID, runID string, now time.Time) (audit.Seal, bool, error) {
	var out audit.Seal
	var sealed bool
	// Repeatable read: the snapshot's horizon and the rows read agree.
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(ctx context.Context, tx bun.Tx) error {
		var snap string
		if err := tx.NewRaw("SELECT pg_current_snapshot()::text").Scan(ctx, &snap); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		horizon, err := xminOf(snap)
		if err != nil {
			return fmt.Errorf("snapshot %q: %w", snap, err)
		}
		prev := audit.Seal{SealHash: audit.GenesisSealHash}
		var prevRow sealRow
		switch err := tx.NewSelect().Model(&prevRow).OrderExpr("id DESC").Limit(1).Scan(ctx); {
		case err == nil:
			if prev, err = prevRow.seal(); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("previous seal: %w", err)
		}
		if horizon <= prev.XminTo {
			return nil
		}
		rows, err := sealedRows(ctx, tx, prev.XminTo, horizon)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		out = audit.Seal{
			CreatedAt: now.UTC().Truncate(time.Microsecond), XminFrom: prev.XminTo, XminTo: horizon,
			RowCount: int64(len(rows)), FirstSeq: rows[0].Seq, LastSeq: rows[len(rows)-1].Seq,
			RowsSHA256: audit.RowsDigest(rows), PrevSealHash: prev.SealHash,
		}
		out.SealHash = out.ComputeHash()
		row := sealRow{
			CreatedAt: out.CreatedAt, XminFrom: strconv.FormatUint(out.XminFrom, 10), XminTo: strconv.FormatUint(out.XminTo, 10),
			RowCount: out.RowCount, FirstSeq: out.FirstSeq, LastSeq: out.LastSeq, RowsSHA256: out.RowsSHA256,
			PrevSealHash: out.PrevSealHash, SealHash: out.SealHash, WorkflowID: workflowID, RunID: runID,
		}
		if _, err := tx.NewInsert().Model(&row).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert seal: %w", err)
		}
		out.ID, sealed = row.ID, true
		return nil
	})
	if err != nil {
		return audit.Seal{}, false, fmt.Errorf("store: seal audit log: %w", err)
	}
	return out, sealed, nil
}

// sealedRows lists (seq, stored hash) of the audit rows written by
// transactions in [from, to), by seq.
func sealedRows(ctx context.Context, db bun.IDB, from, to uint64) ([]audit.SealedRow, error) {
	var rows []audit.SealedRow
	err := db.NewRaw(`SELECT seq, hash FROM conversion_audits
		WHERE xact_id >= ?::xid8 AND xact_id < ?::xid8 ORDER BY seq`,
		strconv.FormatUint(from, 10), strconv.FormatUint(to, 10)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("rows to seal: %w", err)
	}
	return rows, nil
}

// VerifyReport is the outcome of VerifyAudit.
type VerifyReport struct {
	Rows     int64
	Seals    int64
	Unsealed int64
	// Problem names the first row or seal that does not match; empty when
	// everything verifies.
	Problem string
}

// OK reports whether the audit log verified.
func (r VerifyReport) OK() bool { return r.Problem == "" }

// VerifyAudit recomputes every audit row's hash and every seal, in chain
// order, and stops at the first mismatch.
func (s *Store) VerifyAudit(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	var seals []sealRow
	if err := s.db.NewSelect().Model(&seals).OrderExpr("id").Scan(ctx); err != nil {
		return rep, fmt.Errorf("store: verify: seals: %w", err)
	}
	prev := audit.Seal{SealHash: audit.GenesisSealHash}
	for _, row := range seals {
		seal, err := row.seal()
		if err != nil {
			return rep, err
		}
		if seal.PrevSealHash != prev.SealHash || seal.XminFrom != prev.XminTo {
			rep.Problem = fmt.Sprintf("seal %d: does not follow seal %d (chain broken)", seal.ID, prev.ID)
			return rep, nil
		}
		d, problem, err := s.verifyRows(ctx, seal.XminFrom, seal.XminTo)
		if err != nil {
			return rep, err
		}
		rep.Rows += d.Count
		if problem != "" {
			rep.Problem = problem
			return rep, nil
		}
		want := seal
		want.RowCount, want.FirstSeq, want.LastSeq, want.RowsSHA256 = d.Count, d.First, d.Last, d.Sum()
		switch {
		case want.RowCount != seal.RowCount || want.FirstSeq != seal.FirstSeq || want.LastSeq != seal.LastSeq:
			rep.Problem = fmt.Sprintf("seal %d: covers %d rows (seq %d..%d) but %d rows (seq %d..%d) are stored in its window",
				seal.ID, seal.RowCount, seal.FirstSeq, seal.LastSeq, want.RowCount, want.FirstSeq, want.LastSeq)
		case want.RowsSHA256 != seal.RowsSHA256:
			rep.Problem = fmt.Sprintf("seal %d: the digest of its rows does not match", seal.ID)
		case seal.ComputeHash() != seal.SealHash:
			rep.Problem = fmt.Sprintf("seal %d: its hash does not match its content", seal.ID)
		}
		if rep.Problem != "" {
			return rep, nil
		}
		rep.Seals++
		prev = seal
	}
	d, problem, err := s.verifyRows(ctx, prev.XminTo, 1<<63-1)
	if err != nil {
		return rep, err
	}
	rep.Rows += d.Count
	rep.Unsealed = d.Count
	rep.Problem = problem
	return rep, nil
}

// verifyRows recomputes the hash and the arithmetic of every audit row
// written by a transaction in [from, to) and returns their digest, or
// names the first row whose stored hash or figures do not match.
func (s *Store) verifyRows(ctx context.Context, from, to uint64) (*audit.Digest, string, error) {
	const batch = 5000
	out := &audit.Digest{}
	lastSeq := int64(-1)
	for {
		var rows []auditRow
		err := s.db.NewSelect().Model(&rows).
			Where("xact_id >= ?::xid8 AND xact_id < ?::xid8", strconv.FormatUint(from, 10), strconv.FormatUint(to, 10)).
			Where("seq > ?", lastSeq).OrderExpr("seq").Limit(batch).Scan(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("store: verify rows: %w", err)
		}
		legs, err := s.legsOf(ctx, rows)
		if err != nil {
			return nil, "", err
		}
		for _, row := range rows {
			r := row.receipt()
			computed := audit.ReceiptHash(r)
			if computed != row.Hash {
				return out, fmt.Sprintf("audit row %s (seq %d): stored hash does not match its content", row.ID, row.Seq), nil
			}
			for i, l := range r.Legs {
				r.Legs[i] = legs[l.ID]
			}
			if err := audit.CheckArithmetic(r); err != nil {
				return out, fmt.Sprintf("audit row %s (seq %d): %v", row.ID, row.Seq, err), nil
			}
			out.Add(audit.SealedRow{Seq: row.Seq, Hash: computed})
			lastSeq = row.Seq
		}
		if len(rows) < batch {
			return out, "", nil
		}
	}
}

// legsOf reads the rate rows the audit rows were priced from, in one query.
func (s *Store) legsOf(ctx context.Context, rows []auditRow) (map[int64]fx.Rate, error) {
	var ids []int64
	for _, row := range rows {
		for _, id := range []*int64{row.Leg1RateID, row.Leg2RateID} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	legs, err := s.RatesByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("store: verify rows: %w", err)
	}
	return legs, nil
}

// OldestUnsealed returns when the oldest audit row no seal covers yet was
// written; false when every row is sealed. Sealing waits for the oldest
// transaction running anywhere in the cluster, so a long one shows here.
func (s *Store) OldestUnsealed(ctx context.Context) (time.Time, bool, error) {
	var oldest sql.NullTime
	err := s.db.NewRaw(`SELECT min(created_at) FROM conversion_audits
		WHERE xact_id >= coalesce((SELECT xmin_to FROM audit_seals ORDER BY id DESC LIMIT 1), '0'::xid8)`).Scan(ctx, &oldest)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: oldest unsealed audit row: %w", err)
	}
	return oldest.Time.UTC(), oldest.Valid, nil
}
