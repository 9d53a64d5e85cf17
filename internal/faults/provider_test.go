package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"ces/internal/flow"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/temporal"
)

// providerFailure starts an ingestion with the provider in mode, waits
// until FetchRates has been retried after a failure like wantFailure,
// checks nothing was written and lookups still serve the last good rate,
// then lets the provider recover and the run complete.
func providerFailure(t *testing.T, s *stack, r *reporter, mode, wantFailure string) {
	ctx := context.Background()
	rowsBefore, want := s.rateRows(ctx), s.newestAsOf(ctx)
	s.provider.setMode(mode)
	defer s.provider.setMode(modeOK)
	id := "faults-" + r.name
	run, err := s.start(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var p *workflowpb.PendingActivityInfo
	retried := eventually(20*time.Second, func() bool {
		p = s.pending(ctx, id, "FetchRates")
		return p != nil && p.GetAttempt() >= 2 && strings.Contains(p.GetLastFailure().GetMessage(), wantFailure)
	})
	r.check(t, "FetchRates is retried, as declared", retried, "attempt %d, last failure %q", p.GetAttempt(), p.GetLastFailure().GetMessage())
	r.check(t, "nothing written while the provider fails", s.rateRows(ctx) == rowsBefore, "%d rate rows before, %d during", rowsBefore, s.rateRows(ctx))
	a := get(ctx, http.DefaultClient, s.apiURL+lookupPath)
	var l lookupJSON
	json.Unmarshal(a.body, &l)
	r.check(t, "lookups serve the last good rate and say it is stale", a.status == 200 && l.AsOf.Equal(want) && l.Stale,
		"%d as_of %s stale %v", a.status, l.AsOf.Format(time.RFC3339), l.Stale)
	s.provider.setMode(modeOK)
	var res flow.IngestResult
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = run.Get(wctx, &res)
	r.check(t, "the run completes once the provider recovers, adding nothing twice",
		err == nil && res.Fetched > 0 && res.AlreadyPresent == res.Fetched && s.rateRows(ctx) == rowsBefore,
		"err %v, fetched %d, already present %d, inserted %d", err, res.Fetched, res.AlreadyPresent, res.Inserted)
}

func expProvider500(t *testing.T, s *stack, r *reporter) {
	providerFailure(t, s, r, mode500, "500")
}

func expProviderHang(t *testing.T, s *stack, r *reporter) {
	providerFailure(t, s, r, modeHang, "Timeout")
}

func expProviderGarbage(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	rowsBefore, hits := s.rateRows(ctx), s.provider.hits.Load()
	s.provider.setMode(modeGarbage)
	defer s.provider.setMode(modeOK)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := s.ingest(wctx, "faults-"+r.name)
	var ae *temporal.ApplicationError
	errors.As(err, &ae)
	calls := s.provider.hits.Load() - hits
	r.check(t, "a garbage payload fails the run at once, not retried", ae != nil && ae.NonRetryable() && calls == 1,
		"%d provider call(s); error type %q: %v", calls, errType(ae), err)
	r.check(t, "nothing written", s.rateRows(ctx) == rowsBefore, "%d rate rows before, %d after", rowsBefore, s.rateRows(ctx))
}

func errType(ae *temporal.ApplicationError) string {
	if ae == nil {
		return ""
	}
	return ae.Type()
}

func expProviderSlow(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	s.provider.setMode(modeSlow)
	defer s.provider.setMode(modeOK)
	s.provider.advance()
	hits := s.provider.hits.Load()
	res, err := s.ingest(ctx, "faults-"+r.name)
	calls := s.provider.hits.Load() - hits
	r.check(t, "a slow provider (1.5 s, inside FX_HTTP_TIMEOUT) is waited for: one call, the new day stored once",
		err == nil && calls == 1 && res.Inserted == res.Fetched && res.Fetched > 0 && s.duplicates(ctx) == 0,
		"%d call(s); %s fetched %d, inserted %d; err %v", calls, s.provider.date(), res.Fetched, res.Inserted, err)
	want := s.newestAsOf(ctx)
	var l lookupJSON
	served := eventually(2*time.Second, func() bool {
		l = lookupJSON{}
		json.Unmarshal(get(ctx, http.DefaultClient, s.apiURL+lookupPath).body, &l)
		return l.AsOf.Equal(want)
	})
	r.check(t, "lookups serve the new day within a second", served, "as_of %s", l.AsOf.Format(time.DateOnly))
}
