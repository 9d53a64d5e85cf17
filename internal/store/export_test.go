package store

import (
	"context"
	"time"

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
