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
	KeyID        string    `bun:"key_id,nullzero"`
	Signature    string    `bun:"signature,nullzero"`
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
		KeyID: r.KeyID, Signature: r.Signature,
	}, nil
}

// LatestSeal returns the newest seal, or false when there is none.
func (s *Audit) LatestSeal(ctx context.Context) (audit.Seal, bool, error) {
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

// Seals returns the seals with an id above after, by id.
func (s *Audit) Seals(ctx context.Context, after int64) ([]audit.Seal, error) {
	var rows []sealRow
	if err := s.db.NewSelect().Model(&rows).Where("id > ?", after).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: seals: %w", err)
	}
	out := make([]audit.Seal, 0, len(rows))
	for _, r := range rows {
		seal, err := r.seal()
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, seal)
	}
	return out, nil
}

// Seal appends a seal covering every audit row written by a transaction
// that completed since the previous seal's horizon, signed by signer
// (nil: unsigned, for tests of older chains). It reports false when
// there was nothing to seal. Two concurrent sealers cannot fork the chain:
// prev_seal_hash is unique, so the second fails and, retried, seals after
// the first.
func (s *Audit) Seal(ctx context.Context, workflowID, runID string, now time.Time, signer *audit.Signer) (audit.Seal, bool, error) {
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
		if signer != nil {
			signer.Sign(&out)
		}
		row := sealRow{
			KeyID: out.KeyID, Signature: out.Signature,
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

// VerifyOptions is what VerifyAudit checks the database against.
type VerifyOptions struct {
	// Anchored is the anchor's copy of the seals, by id; Keys are the
	// public keys trusted to have signed seals.
	Anchored []audit.Seal
	Keys     audit.Keys
	// Full re-checks every row. Otherwise rows are checked after the
	// newest seal of Verified (the anchor's record of clean runs: seal id
	// → seal hash) that is still the seal it verified; seals, signatures
	// and the anchor are always checked in full.
	Full     bool
	Verified map[int64]string
	// AnchorGrace is how long a new seal may go unanchored (the sealer
	// anchors it right after its commit, or on its next run).
	Now         time.Time
	AnchorGrace time.Duration
	// Progress, when set, is called after each batch of rows.
	Progress func(done, total int64)
}

// VerifyReport is the outcome of VerifyAudit.
type VerifyReport struct {
	// Rows counts the rows checked, Seals the seals in the chain,
	// Unsealed the rows no seal covers yet.
	Rows     int64
	Seals    int64
	Unsealed int64
	// Unsigned counts seals made before seals were signed; PendingAnchor
	// the newest seals not anchored yet, within the grace period.
	Unsigned      int
	PendingAnchor int
	// From is the seal the rows were checked after (0: from the start).
	From int64
	// Newest is the newest seal; zero ID when there is none.
	Newest audit.Seal
	// CheckpointError says why a clean run could not record where it
	// ended in the anchor (the next run is then full).
	CheckpointError string
	// Problem names the first row or seal that does not match; empty when
	// everything verifies.
	Problem string
}

// OK reports whether the audit log verified.
func (r VerifyReport) OK() bool { return r.Problem == "" }

// VerifyAudit checks the seal chain, its signatures and the anchor's copy
// of it, then recomputes the hash and arithmetic of every row the run
// covers, in chain order, and stops at the first mismatch. It also asks
// PostgreSQL's statistics whether a row of the log was ever updated or
// deleted, which nothing in CES does: that is how a deleted row no seal
// covered yet shows, and it makes an incremental run check every row.
func (s *Audit) VerifyAudit(ctx context.Context, opts VerifyOptions) (VerifyReport, error) {
	var rep VerifyReport
	seals, err := s.Seals(ctx, 0)
	if err != nil {
		return rep, fmt.Errorf("store: verify: %w", err)
	}
	rep.Seals = int64(len(seals))
	if len(seals) > 0 {
		rep.Newest = seals[len(seals)-1]
	}
	if rep.Unsigned, rep.Problem = audit.CheckChain(seals, opts.Keys); rep.Problem != "" {
		return rep, nil
	}
	anchored := audit.CompareAnchor(seals, opts.Anchored, opts.Now.Add(-opts.AnchorGrace))
	if rep.PendingAnchor, rep.Problem = anchored.Pending, anchored.Problem; rep.Problem != "" {
		return rep, nil
	}
	// A change PostgreSQL counted makes an incremental run a full one, so
	// that it names the row rather than the table.
	changed, err := s.changedHistory(ctx)
	if err != nil {
		return rep, err
	}
	todo := seals
	if !opts.Full && changed == "" {
		if from, ok := resumeAfter(seals, opts.Verified); ok {
			rep.From, todo = seals[from].ID, seals[from+1:]
		}
	}
	var total int64
	for _, seal := range todo {
		total += seal.RowCount
	}
	prevTo := uint64(0)
	if n := len(seals) - len(todo); n > 0 {
		prevTo = seals[n-1].XminTo
	}
	// Every window, the unsealed rows last, is checked on several
	// connections at once; the results are judged in chain order.
	windows := make([]window, 0, len(todo)+1)
	for _, seal := range todo {
		windows = append(windows, window{seal.XminFrom, seal.XminTo})
		prevTo = seal.XminTo
	}
	windows = append(windows, window{prevTo, 1<<63 - 1})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := s.newRowVerifier().verifyWindows(ctx, windows, func(done int64) { progress(opts, done, max(total, done)) })
	for i, seal := range todo {
		res := <-results[i]
		if res.err != nil {
			return rep, res.err
		}
		d := res.digest
		rep.Rows += d.Count
		if res.problem != "" {
			rep.Problem = res.problem
			return rep, nil
		}
		switch {
		case d.Count != seal.RowCount || d.First != seal.FirstSeq || d.Last != seal.LastSeq:
			rep.Problem = fmt.Sprintf("seal %d: covers %d rows (seq %d..%d) but %d rows (seq %d..%d) are stored in its window",
				seal.ID, seal.RowCount, seal.FirstSeq, seal.LastSeq, d.Count, d.First, d.Last)
		case d.Sum() != seal.RowsSHA256:
			rep.Problem = fmt.Sprintf("seal %d: the digest of its rows does not match", seal.ID)
		}
		if rep.Problem != "" {
			return rep, nil
		}
	}
	res := <-results[len(todo)]
	if res.err != nil {
		return rep, res.err
	}
	rep.Rows += res.digest.Count
	rep.Unsealed = res.digest.Count
	if rep.Problem = res.problem; rep.Problem == "" {
		rep.Problem = changed
	}
	return rep, nil
}

func progress(opts VerifyOptions, done, total int64) {
	if opts.Progress != nil {
		opts.Progress(done, total)
	}
}

// resumeAfter finds, in seals, the newest one a clean run ended at that
// is still the seal it verified.
func resumeAfter(seals []audit.Seal, verified map[int64]string) (int, bool) {
	for i := len(seals) - 1; i >= 0; i-- {
		if h, ok := verified[seals[i].ID]; ok && h == seals[i].SealHash {
			return i, true
		}
	}
	return 0, false
}

// changedHistory names an audit table PostgreSQL counted an UPDATE or
// DELETE on. The counters survive a clean restart and are lost in a
// crash or a statistics reset (which takes a superuser), so they are
// evidence of a change, never proof that there was none.
func (s *Audit) changedHistory(ctx context.Context) (string, error) {
	var rows []struct {
		Table   string `bun:"relname"`
		Updated int64  `bun:"n_tup_upd"`
		Deleted int64  `bun:"n_tup_del"`
	}
	// A partitioned table has no counters of its own: its partitions'
	// are summed under its name.
	err := s.db.NewRaw(`SELECT CASE WHEN s.relid = 'audit_seals'::regclass THEN 'audit_seals' ELSE 'conversion_audits' END AS relname,
			sum(s.n_tup_upd)::bigint AS n_tup_upd, sum(s.n_tup_del)::bigint AS n_tup_del
		FROM pg_stat_all_tables s
		WHERE s.relid = 'audit_seals'::regclass OR s.relid IN (SELECT relid FROM pg_partition_tree('conversion_audits'))
		GROUP BY 1 ORDER BY 1 DESC`).Scan(ctx, &rows)
	if err != nil {
		return "", fmt.Errorf("store: verify: table statistics: %w", err)
	}
	for _, r := range rows {
		if r.Updated > 0 || r.Deleted > 0 {
			return fmt.Sprintf("%s: PostgreSQL counted %d updated and %d deleted rows; CES only ever inserts into it", r.Table, r.Updated, r.Deleted), nil
		}
	}
	return "", nil
}

// Verification is one recorded run of verify-audit.
type Verification struct {
	bun.BaseModel `bun:"table:audit_verifications"`

	ID         int64     `bun:"id,pk,autoincrement"`
	VerifiedAt time.Time `bun:"verified_at,notnull"`
	Full       bool      `bun:"full_run,notnull"`
	SealID     int64     `bun:"seal_id,nullzero"`
	SealHash   string    `bun:"seal_hash,nullzero"`
	Seals      int64     `bun:"seals,notnull"`
	Rows       int64     `bun:"rows_checked,notnull"`
	Unsealed   int64     `bun:"unsealed,notnull"`
	Problem    string    `bun:"problem,notnull"`
	StartedBy  string    `bun:"started_by,notnull"`
}

// RecordVerification appends the outcome of a run of VerifyAudit.
func (s *Audit) RecordVerification(ctx context.Context, rep VerifyReport, full bool, startedBy string, at time.Time) (Verification, error) {
	v := Verification{
		VerifiedAt: at.UTC(), Full: full, SealID: rep.Newest.ID, SealHash: rep.Newest.SealHash, Seals: rep.Seals,
		Rows: rep.Rows, Unsealed: rep.Unsealed, Problem: rep.Problem, StartedBy: startedBy,
	}
	if _, err := s.db.NewInsert().Model(&v).Returning("id").Exec(ctx); err != nil {
		return v, fmt.Errorf("store: record verification: %w", err)
	}
	return v, nil
}

// LatestVerification returns the newest recorded verification.
func (s *Audit) LatestVerification(ctx context.Context) (Verification, bool, error) {
	var v Verification
	err := s.db.NewSelect().Model(&v).OrderExpr("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("store: latest verification: %w", err)
	}
	return v, true, nil
}

// RegisterSigningKey publishes a public key that signs seals; registering
// it again does nothing.
func (s *Audit) RegisterSigningKey(ctx context.Context, keyID string, publicKeyPEM []byte) error {
	_, err := s.db.NewRaw(`INSERT INTO audit_signing_keys (key_id, public_key) VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING`,
		keyID, string(publicKeyPEM)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: register signing key: %w", err)
	}
	return nil
}

// SigningKey is a published public key.
type SigningKey struct {
	KeyID     string    `bun:"key_id"`
	PublicKey string    `bun:"public_key"`
	CreatedAt time.Time `bun:"created_at"`
}

// SigningKeys lists the published public keys, oldest first.
func (s *Audit) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	var keys []SigningKey
	if err := s.db.NewRaw(`SELECT key_id, public_key, created_at FROM audit_signing_keys ORDER BY created_at, key_id`).Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	return keys, nil
}

// OldestUnsealed returns when the oldest audit row no seal covers yet was
// written; false when every row is sealed. Sealing waits for the oldest
// transaction running anywhere in the cluster, so a long one shows here.
func (s *Audit) OldestUnsealed(ctx context.Context) (time.Time, bool, error) {
	var oldest sql.NullTime
	err := s.db.NewRaw(`SELECT min(created_at) FROM conversion_audits
		WHERE xact_id >= coalesce((SELECT xmin_to FROM audit_seals ORDER BY id DESC LIMIT 1), '0'::xid8)`).Scan(ctx, &oldest)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: oldest unsealed audit row: %w", err)
	}
	return oldest.Time.UTC(), oldest.Valid, nil
}
