package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// The reads of the historical path go to PostgreSQL as server-side
// prepared statements with parameters (pgx's statement cache, per
// connection): the connection's default is the simple protocol, which
// suits bun's one-off statement texts, but these few texts repeat on
// every historical answer that memory cannot give, and a prepared
// statement is planned once per connection instead of once per call.
var prepared = pgx.QueryExecModeCacheStatement

// stateSQL is latestOf for one provider at an instant.
const stateSQL = `SELECT x.id, x.provider, x.base, x.quote, x.rate::text, x.as_of, x.fetched_at
FROM rate_series rs CROSS JOIN LATERAL (
  SELECT r.id, r.provider, r.base, r.quote, r.rate, r.as_of, r.fetched_at FROM exchange_rates r
  WHERE r.provider = rs.provider AND r.base = rs.base AND r.quote = rs.quote AND r.as_of <= $2 AND ` + servable + `
  ORDER BY r.as_of DESC LIMIT 1) x
WHERE rs.provider = $1
ORDER BY x.base, x.quote`

// StateAt returns what provider's rates price at the instant at: for
// every series of the provider, the newest released row with as_of ≤ at.
// It is LatestServable for one provider, as one prepared statement.
func (s *Rates) StateAt(ctx context.Context, provider string, at time.Time) ([]fx.Rate, error) {
	out, err := s.queryRates(ctx, stateSQL, provider, at.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: rates of %s in force at %s: %w", provider, at.UTC().Format(time.RFC3339Nano), err)
	}
	return out, nil
}

const seriesSQL = `SELECT r.id, r.provider, r.base, r.quote, r.rate::text, r.as_of, r.fetched_at FROM exchange_rates r
WHERE r.provider = $1 AND r.base = $2 AND r.quote = $3 AND r.as_of >= $4 AND r.as_of < $5 AND ` + servable + `
ORDER BY r.as_of`

// History returns the released rows of one series with start ≤ as_of <
// end, oldest first.
func (s *Rates) History(ctx context.Context, provider, base, quote string, start, end time.Time) ([]fx.Rate, error) {
	out, err := s.queryRates(ctx, seriesSQL, provider, base, quote, start.UTC(), end.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: history %s %s/%s: %w", provider, base, quote, err)
	}
	return out, nil
}

// queryRates runs a prepared rate query and scans its rows. Codes are the
// currency catalogue's strings and each provider's name is kept once per
// query, so that rows held in memory share their strings.
func (s *Rates) queryRates(ctx context.Context, query string, args ...any) ([]fx.Rate, error) {
	rows, err := s.db.DB.QueryContext(ctx, query, append([]any{prepared}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fx.Rate
	var provider, base, quote, rate string
	providers := map[string]string{}
	for rows.Next() {
		var r fx.Rate
		if err := rows.Scan(&r.ID, &provider, &base, &quote, &rate, &r.AsOf, &r.FetchedAt); err != nil {
			return nil, err
		}
		v, err := decimal.NewFromString(rate)
		if err != nil {
			return nil, fmt.Errorf("rate %d: %w", r.ID, err)
		}
		if p, ok := providers[provider]; ok {
			provider = p
		} else {
			providers[provider] = provider
		}
		r.Provider, r.Base, r.Quote, r.Value = provider, code(base), code(quote), v
		r.AsOf, r.FetchedAt = r.AsOf.UTC(), r.FetchedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// code returns the catalogue's copy of a currency code, or s (a string
// database/sql allocated for this row alone).
func code(s string) string {
	if c, ok := fx.LookupCurrency(s); ok && c.Code == s {
		return c.Code
	}
	return s
}

// instantsSQL lists a provider's distinct as_of from $2 on by walking the
// (provider, as_of) index one instant at a time: one probe per
// publication, not one row per rate.
const instantsSQL = `WITH RECURSIVE t(as_of) AS (
  (SELECT as_of FROM exchange_rates WHERE provider = $1 AND as_of >= $2 ORDER BY as_of LIMIT 1)
  UNION ALL
  SELECT (SELECT e.as_of FROM exchange_rates e WHERE e.provider = $1 AND e.as_of > t.as_of ORDER BY e.as_of LIMIT 1)
  FROM t WHERE t.as_of IS NOT NULL
) SELECT as_of FROM t WHERE as_of IS NOT NULL`

// Publications returns the distinct instants (as_of) at which provider
// has stored rows, from from on, oldest first.
func (s *Rates) Publications(ctx context.Context, provider string, from time.Time) ([]time.Time, error) {
	rows, err := s.db.DB.QueryContext(ctx, instantsSQL, prepared, provider, from.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: publications of %s: %w", provider, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store: publications of %s: %w", provider, err)
		}
		out = append(out, t.UTC())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: publications of %s: %w", provider, err)
	}
	return out, nil
}

// listenIdle is how long the listening connection may stay silent before
// it is asked to answer (within listenPing), so a dead one is noticed.
var (
	listenIdle = 30 * time.Second
	listenPing = 5 * time.Second
)

// RatesChannel is the PostgreSQL channel on which migration 11's triggers
// announce every change to what past instants price.
const RatesChannel = "ces_rates_changed"

// RateChange is one announcement on RatesChannel: what provider's rates
// price at or after From may have changed.
type RateChange struct {
	Provider string
	From     time.Time
}

// ParseRateChange reads a RatesChannel payload, "<provider> <unix µs>".
func ParseRateChange(payload string) (RateChange, error) {
	p, us, ok := strings.Cut(payload, " ")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || p == "" || err != nil {
		return RateChange{}, fmt.Errorf("store: malformed rate change %q", payload)
	}
	return RateChange{Provider: p, From: time.UnixMicro(n).UTC()}, nil
}

// ListenRateChanges holds one pooled connection LISTENing on
// RatesChannel. Once listening it calls ready (the caller reloads what it
// keeps: changes before that moment were not heard), then change for
// every announcement, until ctx ends, the connection fails or a callback
// fails; it returns that error. Announcements arrive after their transaction committed, in
// commit order.
func (s *Rates) ListenRateChanges(ctx context.Context, ready func() error, change func(RateChange) error) error {
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+RatesChannel); err != nil {
			return fmt.Errorf("store: listen: %w", err)
		}
		// The connection goes back to the pool afterwards: stop listening,
		// or close it if that fails.
		defer func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			if _, err := pc.Exec(uctx, "UNLISTEN *"); err != nil {
				pc.Close(uctx)
			}
		}()
		if err := ready(); err != nil {
			return err
		}
		for {
			// A connection that died without a word (a failover, a NAT
			// forgetting the flow) would wait for ever: after listenIdle
			// of silence it must answer a query.
			wctx, cancel := context.WithTimeout(ctx, listenIdle)
			n, err := pc.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if wctx.Err() != nil && pgconn.Timeout(err) && !pc.IsClosed() {
					pctx, cancel := context.WithTimeout(ctx, listenPing)
					_, err := pc.Exec(pctx, "SELECT 1")
					cancel()
					if err != nil {
						return fmt.Errorf("store: listen: the connection stopped answering: %w", err)
					}
					continue
				}
				// pgx closes a connection that failed, and database/sql then
				// drops it rather than reusing it.
				return fmt.Errorf("store: listen: %w", err)
			}
			rc, err := ParseRateChange(n.Payload)
			if err != nil {
				return err
			}
			if err := change(rc); err != nil {
				return err
			}
		}
	})
}
