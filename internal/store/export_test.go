package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"ces/internal/fx"
)

// InsertReceipts stores receipts in one multi-row INSERT, for benchmarks
// that need a long log quickly; CES itself records one conversion per
// transaction.
func (s *Store) InsertReceipts(ctx context.Context, receipts []fx.Receipt) error {
	rows := make([]auditRow, len(receipts))
	for i, r := range receipts {
		rows[i] = toAuditRow(r)
	}
	_, err := s.db.NewInsert().Model(&rows).ExcludeColumn("seq").Exec(ctx)
	return err
}

// SetListenTimings shortens the listener's silence check for a test.
func SetListenTimings(idle, ping time.Duration) func() {
	oldIdle, oldPing := listenIdle, listenPing
	listenIdle, listenPing = idle, ping
	return func() { listenIdle, listenPing = oldIdle, oldPing }
}

// WriteFused runs stmts as a conversion's one-message write does, the
// transaction committed when they succeed.
func WriteFused(ctx context.Context, db *bun.DB, stmts string) error {
	return NewConversions(db).writeFused(ctx, stmts, func(_ []*pgconn.Result, err error) error { return err })
}

// WriteTx runs stmt in a conversion's transaction (writeTx).
func WriteTx(ctx context.Context, db *bun.DB, stmt string) error {
	return NewConversions(db).writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, stmt)
		return err
	})
}
