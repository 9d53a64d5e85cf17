package store

import (
	"context"

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
