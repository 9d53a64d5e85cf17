package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ces/internal/fx"
)

// newestAsOf is PostgreSQL's newest ECB reference time.
func (s *stack) newestAsOf(ctx context.Context) time.Time {
	var at time.Time
	s.db.QueryRowContext(ctx, "SELECT coalesce(max(as_of), 'epoch') FROM exchange_rates WHERE provider = 'ecb'").Scan(&at)
	return at.UTC()
}

func (s *stack) count(ctx context.Context, query string, args ...any) int {
	var n int
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

// waitingOnLock counts the other sessions whose statement on table waits
// for a lock.
func (s *stack) waitingOnLock(ctx context.Context, table string) int {
	return s.count(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()
		AND wait_event_type = 'Lock' AND query ILIKE ?`, "%"+table+"%")
}

func (s *stack) rateRows(ctx context.Context) int {
	return s.count(ctx, "SELECT count(*) FROM exchange_rates")
}

func (s *stack) duplicates(ctx context.Context) int {
	return s.count(ctx, `SELECT count(*) FROM (SELECT 1 FROM exchange_rates
		GROUP BY provider, base, quote, as_of HAVING count(*) > 1) d`)
}

// redisMatchesPG compares the cached latest ECB rates with PostgreSQL's
// newest servable rows, series by series.
func (s *stack) redisMatchesPG(ctx context.Context) (string, bool) {
	rows, err := s.st.Rates.LatestServable(ctx, []string{"ecb"}, nil, time.Time{})
	if err != nil {
		return "postgres: " + err.Error(), false
	}
	cached, err := s.rdb.HGetAll(ctx, "ces:latest:ecb").Result()
	if err != nil {
		return "redis: " + err.Error(), false
	}
	var diff []string
	for _, r := range rows {
		field := r.Base + "/" + r.Quote
		parts := strings.Split(cached[field], "|")
		if len(parts) != 4 || parts[1] != fmt.Sprint(r.ID) || parts[2] != fx.Exact(r.Value) {
			diff = append(diff, fmt.Sprintf("%s redis %q postgres id %d", field, cached[field], r.ID))
		}
	}
	if len(cached) != len(rows) {
		diff = append(diff, fmt.Sprintf("redis has %d series, postgres %d", len(cached), len(rows)))
	}
	if len(diff) > 0 {
		if len(diff) > 2 {
			diff = append(diff[:2], fmt.Sprintf("and %d more", len(diff)-2))
		}
		return strings.Join(diff, "; "), false
	}
	return fmt.Sprintf("Redis holds PostgreSQL's newest row of all %d series", len(rows)), true
}

type lookupJSON struct {
	AsOf  time.Time `json:"as_of"`
	Rate  string    `json:"rate"`
	Stale bool      `json:"stale"`
}

// checkLookups counts answers that are not a 200 carrying the rate of
// want (PostgreSQL's newest): older is wrong, and so is newer.
func checkLookups(as []answer, want time.Time) (bad int, example string) {
	for _, a := range as {
		var l lookupJSON
		if a.status == 200 && json.Unmarshal(a.body, &l) == nil && l.AsOf.Equal(want) {
			continue
		}
		bad++
		if example == "" {
			example = fmt.Sprintf("%d %s %v", a.status, strings.TrimSpace(string(a.body)), a.err)
			if len(example) > 160 {
				example = example[:160]
			}
		}
	}
	return bad, example
}

// settle waits until no session is working on conversion_audits, so a
// conversion the API abandoned has committed or rolled back before the
// rows are counted.
func (s *stack) settle(ctx context.Context) {
	eventually(15*time.Second, func() bool {
		return s.count(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND state <> 'idle' AND query ILIKE '%conversion_audits%'`) == 0
	})
	time.Sleep(200 * time.Millisecond)
}

// accountConversions compares the conversions stored since since with the
// answers: every 201 must be stored, every stored row answered 201.
func (s *stack) accountConversions(ctx context.Context, since time.Time, as []answer) (string, bool) {
	s.settle(ctx)
	stored := map[string]string{} // id -> key
	rows, err := s.db.QueryContext(ctx, "SELECT id::text, coalesce(idempotency_key, '') FROM conversion_audits WHERE created_at >= ?", since)
	if err != nil {
		return "postgres: " + err.Error(), false
	}
	for rows.Next() {
		var id, key string
		rows.Scan(&id, &key)
		stored[id] = key
	}
	rows.Close()
	acked := map[string]bool{}
	missing := 0
	for _, a := range as {
		if a.status != 201 {
			continue
		}
		var c struct {
			ID string `json:"id"`
		}
		json.Unmarshal(a.body, &c)
		acked[c.ID] = true
		if _, ok := stored[c.ID]; !ok {
			missing++
		}
	}
	unacked, example := 0, ""
	for id, key := range stored {
		if !acked[id] {
			unacked++
			example = key
		}
	}
	if example != "" {
		detail := "never answered"
		for _, a := range as {
			if a.key == example {
				detail = fmt.Sprintf("answered %d %s after %s", a.status, a.errorCode(), ms(a.took))
			}
		}
		example = fmt.Sprintf(" (e.g. key %s, %s)", example, detail)
	}
	return fmt.Sprintf("%d requests (%s); %d stored; %d answered 201 but not stored; %d stored but never answered 201%s",
		len(as), summary(as), len(stored), missing, unacked, example), missing == 0 && unacked == 0
}
