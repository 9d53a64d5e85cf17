package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/flow"
	"ces/internal/policy"
	"ces/internal/testenv"
)

// consensusDay is the UTC date the six publishers' recordings all quote
// JPY on (see workflows/consensus_integration_test.go); the Central Bank
// of Armenia's latest recording is of that day.
const consensusDay = "2026-03-18"

var consensusPublishers = []string{"bnm", "boc", "boe", "cba", "cbk", "fbil"}

// consensusStandin serves the six publishers' recordings with the
// crafted copy that moves the Central Bank of Kenya's JPY by 30%
// (testdata/cbk/SOURCE.md) in place of its original, and returns the
// environment that points the worker and the API at it.
func consensusStandin(t *testing.T) []string {
	t.Helper()
	urls := testenv.Replay(t, filepath.Join("..", "..", "testdata"), consensusPublishers,
		map[string]string{"cbk/get_wdtable-193.json": "cbk/get_wdtable-193-jpy-moved-30pct.json"})
	env := []string{"FX_PROVIDERS=ecb," + strings.Join(consensusPublishers, ",")}
	for _, key := range consensusPublishers {
		env = append(env, "FX_"+strings.ToUpper(key)+"_BASE_URL="+urls[key])
	}
	return env
}

// restartWith restarts the worker and the API with extra appended to the
// stack's environment (nil: as the stack started them).
func (s *stack) restartWith(t *testing.T, extra []string) {
	t.Helper()
	s.api.stop(10 * time.Second)
	s.worker.stop(10 * time.Second)
	base := s.env
	s.env = append(append([]string(nil), base...), extra...)
	defer func() { s.env = base }()
	s.worker = s.newWorker(t)
	s.api = s.newAPI(t)
}

// ingestOf runs IngestRates for provider's publication of date ("": its
// latest) and waits for its result.
func (s *stack) ingestOf(ctx context.Context, id, provider, date string) (flow.IngestResult, error) {
	var res flow.IngestResult
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, WorkflowExecutionTimeout: 5 * time.Minute},
		flow.IngestRatesName, flow.IngestInput{Provider: provider, Date: date})
	if err != nil {
		return res, err
	}
	err = run.Get(ctx, &res)
	return res, err
}

// expConsensus publishes, under lookup and conversion load, a Central
// Bank of Kenya publication whose JPY strays 30% from the five other
// publishers quoting JPY that day: the gate holds it against their
// consensus, and no answer or receipt ever uses it, while the honest
// publishers keep answering and pricing.
func expConsensus(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	s.restartWith(t, consensusStandin(t))
	defer s.restartWith(t, nil)
	var honestHeld []string
	for _, p := range consensusPublishers {
		if p == "cbk" {
			continue
		}
		date := consensusDay
		if p == "cba" {
			date = "" // its recorded history ends the day before; its latest is of this day
		}
		res, err := s.ingestOf(ctx, fmt.Sprintf("faults-%s-%s", r.name, p), p, date)
		if err != nil || res.Inserted == 0 {
			t.Fatalf("ingest %s: %+v, %v\nworker log:\n%s", p, res, err, s.worker.tail())
		}
		for _, q := range res.Quarantined {
			honestHeld = append(honestHeld, p+" "+q.Base+"/"+q.Quote)
		}
	}
	r.check(t, "the five honest publishers of the day are stored, none held", len(honestHeld) == 0, "held: %v", honestHeld)

	// Under load, the CBK's publication with the outlier arrives.
	since := time.Now()
	hc := httpClient(10 * time.Second)
	var lookups, convs []answer
	var res flow.IngestResult
	var ingestErr error
	var heldAt time.Time
	// The load runs until two seconds after the publication is in.
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		lookups = load(lctx, 20, 50*time.Millisecond, time.Minute, func(ctx context.Context, _, _ int) answer {
			return get(ctx, hc, s.apiURL+"/api/v1/rates?from=JPY&to=KES")
		})
	}()
	go func() {
		defer wg.Done()
		convs = load(lctx, 2, 200*time.Millisecond, time.Minute, func(ctx context.Context, c, n int) answer {
			return post(ctx, s.apiURL+"/api/v1/convert", `{"amount":"100000","from_currency":"JPY","to_currency":"KES"}`, "Bearer "+clientKey)
		})
	}()
	go func() {
		defer wg.Done()
		time.Sleep(500 * time.Millisecond)
		res, ingestErr = s.ingestOf(ctx, "faults-"+r.name+"-cbk", "cbk", consensusDay)
		heldAt = time.Now()
		time.Sleep(2 * time.Second)
		stopLoad()
	}()
	wg.Wait()
	// The outlier is the CBK's JPY/KES row of the day, held or not: the
	// checks below look for it by what it is.
	var held int64
	if err := s.db.NewRaw(`SELECT id FROM exchange_rates WHERE provider = 'cbk' AND base = 'JPY' AND quote = 'KES' AND as_of::date = ?::date`, consensusDay).Scan(ctx, &held); err != nil {
		t.Fatalf("the CBK's JPY/KES of %s: %v", consensusDay, err)
	}
	var heldWhat string
	ok := ingestErr == nil && len(res.Quarantined) == 1
	for _, q := range res.Quarantined {
		heldWhat += fmt.Sprintf("%s/%s against %s; ", q.Base, q.Quote, q.Against)
		ok = ok && q.RateID == held && q.Against == policy.AgainstConsensus
	}
	r.check(t, "the CBK's JPY, 30% from the others, is held against their consensus, and only it", ok,
		"%sinserted %d, err %v", heldWhat, res.Inserted, ingestErr)

	// Never served: the row was held in the transaction that stored it, so
	// no lookup, before or after, may name it. Before the CBK's
	// publication no one prices KES; once it is in, every lookup answers,
	// from the CBK's KES and an honest publisher's JPY.
	var served, answered, after int
	providers := map[string]int{}
	for _, a := range lookups {
		if !a.sent.Before(heldAt) {
			after++
		}
		var l struct {
			Provider string `json:"provider"`
			Legs     []struct {
				ID int64 `json:"id"`
			} `json:"legs"`
		}
		if a.status != 200 || json.Unmarshal(a.body, &l) != nil {
			continue
		}
		if !a.sent.Before(heldAt) {
			answered++
			providers[l.Provider]++
		}
		for _, leg := range l.Legs {
			if leg.ID == held {
				served++
			}
		}
	}
	r.check(t, "JPY→KES lookups never serve the held row; once the CBK's KES is in, every one answers from the honest publishers' JPY", served == 0 && answered == after && after > 0,
		"%d lookups: %s; after the publication %d of %d answered, by %v; %d named the held row", len(lookups), summary(lookups), answered, after, providers, served)
	var priced int
	if err := s.db.NewRaw(`SELECT count(*) FROM conversion_audits WHERE created_at >= ? AND ? IN (leg1_rate_id, leg2_rate_id)`, since, held).Scan(ctx, &priced); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	var convsAfter []answer
	for _, a := range convs {
		if !a.sent.Before(heldAt) {
			convsAfter = append(convsAfter, a)
		}
	}
	r.check(t, "no JPY→KES conversion is priced from the held row; once the CBK's KES is in, each is priced from the others", priced == 0 && all(convsAfter, created),
		"%d conversions: %s; after the publication: %s; %d receipts reference the held row", len(convs), summary(convs), summary(convsAfter), priced)
	n, problem := s.receiptsAgree(ctx, since)
	r.check(t, "no receipt disagrees with the rows it references", problem == "", "%d receipts re-derived from their rows%s", n, prefixed("; ", problem))
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, every stored row answered 201", ok, "%s", obs)

	// Each honest publisher's JPY prices, pinned to it.
	var refused []string
	for _, p := range []struct{ from, to, provider string }{{"JPY", "MYR", "bnm"}, {"JPY", "CAD", "boc"}, {"GBP", "JPY", "boe"}, {"JPY", "AMD", "cba"}, {"JPY", "INR", "fbil"}} {
		if a := get(ctx, hc, fmt.Sprintf("%s/api/v1/rates?from=%s&to=%s&provider=%s", s.apiURL, p.from, p.to, p.provider)); a.status != 200 || strings.Contains(string(a.body), `"under_review":true`) {
			refused = append(refused, fmt.Sprintf("%s %s/%s: %d", p.provider, p.from, p.to, a.status))
		}
	}
	r.check(t, "every honest publisher's JPY is priced, pinned to it", len(refused) == 0, "refused: %v", refused)
}
