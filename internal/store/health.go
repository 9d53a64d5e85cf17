package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/policy"
)

// Health records the checks of publishers' health (publisher_health) and
// reads each publisher's newest one back.
type Health struct{ db *bun.DB }

// NewHealth returns the health store over db.
func NewHealth(db *bun.DB) *Health { return &Health{db: db} }

// PublisherCheck is one recorded check of one publisher.
type PublisherCheck struct {
	bun.BaseModel `bun:"table:publisher_health,alias:h"`

	ID          int64               `bun:"id,pk,autoincrement"`
	Provider    string              `bun:"provider,notnull"`
	CheckedAt   time.Time           `bun:"checked_at,notnull"`
	Status      policy.HealthStatus `bun:"status,notnull"`
	WindowStart time.Time           `bun:"window_start,notnull"`
	Expected    int                 `bun:"expected,notnull"`
	Missed      int                 `bun:"missed,notnull"`
	// NewestAsOf is the as_of of the newest publication at CheckedAt;
	// zero when nothing was stored.
	NewestAsOf time.Time `bun:"newest_as_of,nullzero"`
	WorkflowID string    `bun:"workflow_id,notnull"`
}

// RecordChecks inserts checks; a check already recorded (same provider
// and checked_at: a retried activity) is left as it is.
func (s *Health) RecordChecks(ctx context.Context, checks []PublisherCheck) error {
	if len(checks) == 0 {
		return nil
	}
	rows := make([]PublisherCheck, len(checks))
	for i, c := range checks {
		c.ID = 0
		c.CheckedAt, c.WindowStart = c.CheckedAt.UTC(), c.WindowStart.UTC()
		if !c.NewestAsOf.IsZero() {
			c.NewestAsOf = c.NewestAsOf.UTC()
		}
		rows[i] = c
	}
	if _, err := s.db.NewInsert().Model(&rows).ExcludeColumn("id").Ignore().Exec(ctx); err != nil {
		return fmt.Errorf("store: record publisher health: %w", err)
	}
	return nil
}

// LatestChecks returns each publisher's newest recorded check, by
// provider: one index probe per publisher checked.
func (s *Health) LatestChecks(ctx context.Context) ([]PublisherCheck, error) {
	var out []PublisherCheck
	err := s.db.NewSelect().Model(&out).
		DistinctOn("provider").OrderExpr("provider, checked_at DESC").Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: publisher health: %w", err)
	}
	for i := range out {
		out[i].CheckedAt, out[i].WindowStart = out[i].CheckedAt.UTC(), out[i].WindowStart.UTC()
		if !out[i].NewestAsOf.IsZero() {
			out[i].NewestAsOf = out[i].NewestAsOf.UTC()
		}
	}
	return out, nil
}

// NewestAsOfAt returns the as_of of the provider's newest row at or
// before at, held rows included (the publisher did publish); false when
// there is none.
func (s *Rates) NewestAsOfAt(ctx context.Context, provider string, at time.Time) (time.Time, bool, error) {
	var asOf time.Time
	err := s.db.NewSelect().Model((*rateRow)(nil)).Column("as_of").
		Where("provider = ? AND as_of <= ?", provider, at.UTC()).OrderExpr("as_of DESC").Limit(1).Scan(ctx, &asOf)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: newest rate of %s at %s: %w", provider, at.UTC().Format(time.RFC3339), err)
	}
	return asOf.UTC(), true, nil
}
