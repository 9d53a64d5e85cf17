package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/cache"
	"ces/internal/gate"
)

// receiptsAgree loads every receipt created since since with the rows its
// legs reference and re-derives it from them (audit.CheckArithmetic): a
// receipt priced from anything but its rows does not pass.
func (s *stack) receiptsAgree(ctx context.Context, since time.Time) (n int, problem string) {
	s.settle(ctx)
	var ids []string
	if err := s.db.NewRaw("SELECT id::text FROM conversion_audits WHERE created_at >= ? ORDER BY seq", since).Scan(ctx, &ids); err != nil {
		return 0, "postgres: " + err.Error()
	}
	for _, id := range ids {
		r, err := s.st.Conversions.ConversionByID(ctx, id)
		if err != nil {
			return len(ids), "postgres: " + err.Error()
		}
		if err := audit.CheckArithmetic(r); err != nil {
			return len(ids), fmt.Sprintf("receipt %s: %v", id, err)
		}
	}
	return len(ids), ""
}

// expPoisonedCache doubles the cached EUR/JPY (same row id and as_of)
// under conversion load: no receipt may be priced from it, the cache is
// repaired from PostgreSQL, and conversions price again.
func expPoisonedCache(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	const key, field = "ces:latest:ecb", "EUR/JPY"
	entry, err := s.rdb.HGet(ctx, key, field).Result()
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	parts := strings.Split(entry, "|")
	parts[2] = decimal.RequireFromString(parts[2]).Mul(decimal.NewFromInt(2)).String()
	poisoned := strings.Join(parts, "|")
	since := time.Now()
	lookups, convs, at := s.storm(ctx, r.name, 4*time.Second, 500*time.Millisecond, func() {
		if err := s.rdb.HSet(ctx, key, field, poisoned).Err(); err != nil {
			t.Errorf("poison: %v", err)
		}
	})
	n, problem := s.receiptsAgree(ctx, since)
	r.check(t, "no receipt disagrees with the rows it references", problem == "" && n > 0, "%d receipts re-derived from their rows%s", n, prefixed("; ", problem))
	refused, other, lastOK := 0, 0, false
	for _, a := range convs {
		switch {
		case a.status == 201:
		case a.status == 503 && a.errorCode() == "rate_unavailable":
			refused++
		default:
			other++
		}
		if a.sent.After(at.Add(2 * time.Second)) {
			lastOK = a.status == 201
		}
	}
	r.check(t, "the poisoned entry is refused (503 rate_unavailable, nothing written), then repaired: conversions price again", other == 0 && lastOK,
		"%d conversions (%s); refused %d; the last ones 201: %v", len(convs), summary(convs), refused, lastOK)
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, every stored row answered 201", ok, "%s", obs)
	var matched string
	repaired := eventually(5*time.Second, func() bool {
		var ok bool
		matched, ok = s.redisMatchesPG(ctx)
		return ok
	})
	r.check(t, "Redis equals PostgreSQL again, values included", repaired, "%s; %d lookups %s", matched, len(lookups), summary(lookups))
}

// jpyRate finds the JPY rate in an ECB cube (<Cube currency='JPY' rate='120.83'/>).
var jpyRate = regexp.MustCompile(`currency=['"]JPY['"] rate=['"]([0-9.]+)`)

// expHeldSeries publishes a day whose JPY moved 90% while conversions
// run: the gate holds it, no conversion is priced from the JPY series
// from then on (nothing else can price USD/JPY here: 503
// rate_under_review), lookups say the pair is under review, and an
// operator's rejection prices the previous rate again at once.
func expHeldSeries(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	s.provider.advance()
	crash := func(day string) string {
		return jpyRate.ReplaceAllStringFunc(day, func(m string) string {
			v := jpyRate.FindStringSubmatch(m)[1]
			return strings.Replace(m, v, decimal.RequireFromString(v).Div(decimal.NewFromInt(10)).String(), 1)
		})
	}
	s.provider.tamper.Store(&crash)
	defer s.provider.tamper.Store(nil)
	var heldAt time.Time
	var ingestErr error
	var quarantined []string
	since := time.Now()
	_, convs, _ := s.storm(ctx, r.name, 4*time.Second, 500*time.Millisecond, func() {
		res, err := s.ingest(ctx, "faults-"+r.name)
		heldAt, ingestErr = time.Now(), err
		for _, q := range res.Quarantined {
			quarantined = append(quarantined, q.Base+"/"+q.Quote)
		}
	})
	r.check(t, "the gate holds the day's JPY (a 90% move) and releases the rest", ingestErr == nil && len(quarantined) == 1 && quarantined[0] == "EUR/JPY",
		"%s: quarantined %v, err %v", s.provider.date(), quarantined, ingestErr)
	var pricedHeld, after, underReview int
	for _, a := range convs {
		if a.sent.Before(heldAt) {
			continue
		}
		after++
		if a.status == 503 && a.errorCode() == "rate_under_review" {
			underReview++
		}
	}
	if err := s.db.NewRaw(`SELECT count(*) FROM conversion_audits a JOIN exchange_rates e ON e.id IN (a.leg1_rate_id, a.leg2_rate_id)
WHERE a.created_at > ? AND e.provider = 'ecb' AND e.base = 'EUR' AND e.quote = 'JPY'`, heldAt).Scan(ctx, &pricedHeld); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	r.check(t, "no conversion priced from the held series once the hold is committed; each answered 503 rate_under_review", pricedHeld == 0 && after > 0 && underReview == after,
		"%d conversions sent after the hold: %d rate_under_review; %d receipts priced from the JPY series", after, underReview, pricedHeld)
	n, problem := s.receiptsAgree(ctx, since)
	r.check(t, "no receipt disagrees with the rows it references", problem == "", "%d receipts re-derived from their rows%s", n, prefixed("; ", problem))
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, every stored row answered 201", ok, "%s", obs)

	var l struct {
		lookupJSON
		UnderReview bool `json:"under_review"`
	}
	a := get(ctx, http.DefaultClient, s.apiURL+"/api/v1/rates?from=EUR&to=JPY")
	json.Unmarshal(a.body, &l)
	r.check(t, "a lookup of the held pair serves the last released rate and says it is under review", a.status == 200 && l.UnderReview,
		"%d %s", a.status, strings.TrimSpace(string(a.body)))

	// The operator rejects the crafted figure, as the console does.
	var qid int64
	if err := s.db.NewRaw(`SELECT rq.id FROM rate_quarantines rq JOIN exchange_rates e ON e.id = rq.rate_id
WHERE e.provider = 'ecb' AND e.quote = 'JPY' ORDER BY rq.id DESC LIMIT 1`).Scan(ctx, &qid); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := s.st.Quality.DecideQuarantine(ctx, qid, false, "a crafted 90% move (fault suite)", "faults", gate.Cascade); err != nil {
		t.Fatalf("reject: %v", err)
	}
	decided := time.Now()
	held, err := s.st.Quality.HeldSeries(ctx)
	if err == nil {
		err = cache.New(s.rdb, "ces:").SetHeld(ctx, held, decided)
	}
	if err != nil {
		t.Fatalf("republish the held series: %v", err)
	}
	var c answer
	priced := eventually(2*time.Second, func() bool {
		c = convert(ctx, http.DefaultClient, s.apiURL, fmt.Sprintf("faults-%s-after", r.name))
		return c.status == 201
	})
	r.check(t, "the rejection restores pricing at once, from the previous released rate", priced,
		"first 201 after %s: %d %s", ms(time.Since(decided)), c.status, c.errorCode())
}

func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
