package workflows_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/config"
	"ces/internal/conversions"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// consensusDay is the UTC date six publishers' recordings all quote JPY
// on: Bank Negara Malaysia, the Bank of Canada, the Bank of England, the
// Central Bank of Armenia, the Central Bank of Kenya and FBIL, each
// against its own currency, with its own USD rate of that day.
const consensusDay = "2026-03-18"

var consensusPublishers = []string{"bnm", "boc", "boe", "cba", "cbk", "fbil"}

// consensusEnv runs ingestion through Temporal against the replayed
// recordings of consensusPublishers, with crafted copies served in place
// of the originals they name (testdata/<key>/SOURCE.md says what each
// changes), on a database, cache and task queue of its own.
type consensusEnv struct {
	st  *store.Store
	svc *rates.Service
	tc  client.Client
	q   string
}

func newConsensusEnv(t *testing.T, crafted map[string]string) *consensusEnv {
	t.Helper()
	urls := testenv.Replay(t, filepath.Join("..", "testdata"), consensusPublishers, crafted)
	env := map[string]string{
		"DATABASE_URL": "postgres://unused@127.0.0.1/unused", "REDIS_URL": "redis://127.0.0.1:6379/0",
		"FX_PROVIDERS": strings.Join(consensusPublishers, ","),
	}
	for _, key := range consensusPublishers {
		env["FX_"+strings.ToUpper(key)+"_BASE_URL"] = urls[key]
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: activities.NewSources(cfg), Rates: st.Rates, Quality: st.Quality, Cache: c, Now: time.Now,
		JumpLimit: cfg.RateJumpLimit, Consensus: cfg.GateConsensus, ReferenceMaxAge: cfg.GateReferenceMaxAge,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	svc := rates.New(st.Rates, st.Quality, c, rates.Options{Providers: consensusPublishers, Authority: rates.DefaultAuthority(),
		StaleAfter: func(string) time.Duration { return 100 * 365 * 24 * time.Hour }})
	return &consensusEnv{st: st, svc: svc, tc: tc, q: queue}
}

// ingest runs IngestRates for the provider's rates of consensusDay: its
// latest publication for the Central Bank of Armenia, whose recorded
// history ends the day before.
func (e *consensusEnv) ingest(t *testing.T, provider string) flow.IngestResult {
	t.Helper()
	ctx := context.Background()
	date := consensusDay
	if provider == "cba" {
		date = ""
	}
	run, err := e.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: e.q, ID: "ingest-consensus-" + provider + "-" + testenv.Suffix()},
		flow.IngestRatesName, flow.IngestInput{Provider: provider, Date: date})
	if err != nil {
		t.Fatal(err)
	}
	var res flow.IngestResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("ingest %s: %v", provider, err)
	}
	if res.Inserted == 0 {
		t.Fatalf("ingest %s stored nothing of %s: %+v", provider, consensusDay, res)
	}
	return res
}

// held returns the quarantines awaiting a decision.
func (e *consensusEnv) held(t *testing.T) []store.Quarantine {
	t.Helper()
	qs, err := e.st.Quality.Quarantines(context.Background(), true, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// TestConsensusEndToEnd is the quality gate's consensus check through
// Temporal on six publishers' real recordings of one day: a crafted copy
// moving the CBK's JPY by 30% is held by the other five's median while
// they are priced; a crafted copy devaluing sterling by 30% at the Bank
// of England, ingested after the four compilers quoting GBP, is priced,
// and the compilers' GBP rows are held against it.
func TestConsensusEndToEnd(t *testing.T) {
	ctx := context.Background()
	t.Run("an outlier among six publishers is held, the others priced", func(t *testing.T) {
		e := newConsensusEnv(t, map[string]string{"cbk/get_wdtable-193.json": "cbk/get_wdtable-193-jpy-moved-30pct.json"})
		for _, p := range consensusPublishers {
			if p == "cbk" {
				continue
			}
			if res := e.ingest(t, p); len(res.Quarantined) != 0 {
				t.Fatalf("%s's real rates were held: %+v", p, res.Quarantined)
			}
		}
		res := e.ingest(t, "cbk")
		if len(res.Quarantined) != 1 || res.Quarantined[0].Base != "JPY" || res.Quarantined[0].Quote != "KES" || res.Quarantined[0].Against != policy.AgainstConsensus {
			t.Fatalf("cbk quarantined %+v, want its JPY/KES alone, against the consensus", res.Quarantined)
		}
		held := e.held(t)
		if len(held) != 1 {
			t.Fatalf("held %+v, want the outlier alone", held)
		}
		q := held[0]
		if q.Currency != "JPY" || q.On != "USD" || q.Publishers != 5 || len(q.Votes) != 5 || fx.Exact(q.Rate.Value) != "1.058850" {
			t.Fatalf("quarantine %+v: want JPY on USD against the five others' median", q)
		}
		for _, v := range q.Votes {
			// Each compiler quotes JPY against its own currency and is put
			// on USD through its own USD rate of the day: two rows; the
			// Bank of England's through its GBP/USD.
			if len(v.RateIDs) != 2 || v.Provider == "cbk" {
				t.Errorf("vote %+v: want two rows of a publisher other than the CBK", v)
			}
		}
		if !q.Change.GreaterThan(q.JumpLimit) || !q.JumpLimit.Equal(q.Band) {
			t.Errorf("change %s, limit %s, band %s: want beyond the 5%% band (the MAD of five agreeing banks is far smaller)", q.Change, q.JumpLimit, q.Band)
		}
		// Not priced: pinned to the CBK, JPY/KES has no released rate; the
		// CBK's other rates are.
		if r, err := e.svc.Latest(ctx, "JPY", "KES", "cbk"); err == nil {
			t.Fatalf("the held JPY/KES was priced: %+v", r)
		}
		if r, err := e.svc.Latest(ctx, "USD", "KES", "cbk"); err != nil || fx.Exact(r.Value) != "129.5000" {
			t.Fatalf("USD/KES from the CBK = %+v, %v; want 129.5000", r, err)
		}
		// Unpinned, JPY/KES is priced from the others, never from the held row.
		r, err := e.svc.Latest(ctx, "JPY", "KES", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range r.Legs {
			if l.ID == q.Rate.ID {
				t.Fatalf("JPY/KES priced from the held row: %+v", r)
			}
		}
		for _, p := range []struct{ from, to, provider string }{{"JPY", "MYR", "bnm"}, {"JPY", "CAD", "boc"}, {"GBP", "JPY", "boe"}, {"JPY", "AMD", "cba"}, {"JPY", "INR", "fbil"}} {
			if r, err := e.svc.Latest(ctx, p.from, p.to, p.provider); err != nil || r.UnderReview {
				t.Errorf("%s/%s from %s = %+v, %v; want priced", p.from, p.to, p.provider, r, err)
			}
		}
		// Released on the figures shown, the row prices again, and a
		// receipt priced after the release names it: the CBK issues KES,
		// so it prices JPY→KES first.
		d, err := e.st.Quality.Decide(ctx, store.Decision{ID: q.ID, Release: true, Reason: "checked with the CBK", Username: "ops", Figures: q.Figures()}, gate.Cascade)
		if err != nil || d.DecidedOn != q.Figures() || len(d.Cascaded) != 0 {
			t.Fatalf("release = %+v, %v", d, err)
		}
		if err := e.svc.Resync(ctx, "cbk"); err != nil {
			t.Fatal(err)
		}
		conv := conversions.New(e.svc, e.st.Conversions, conversions.Options{MaxRateAge: func(string) time.Duration { return 100 * 365 * 24 * time.Hour }})
		rc, _, err := conv.Convert(ctx, conversions.Request{Amount: "1000", From: "JPY", To: "KES", IdempotencyKey: "consensus-" + testenv.Suffix()})
		if err != nil || len(rc.Legs) != 1 || rc.Legs[0].ID != q.Rate.ID {
			t.Fatalf("receipt after the release = %+v, %v; want priced from the released row %d", rc, err, q.Rate.ID)
		}
	})

	t.Run("after the issuer's devaluation, the issuer is priced and the lagging compilers held", func(t *testing.T) {
		e := newConsensusEnv(t, map[string]string{"boe/xudl-2026-03-17-to-2026-03-20.csv": "boe/xudl-2026-03-17-to-2026-03-20-gbp-devalued-30pct.csv"})
		compilers := map[string]string{} // provider → the rule it prices GBP/USD by
		for _, p := range consensusPublishers {
			if p == "boe" {
				continue
			}
			if res := e.ingest(t, p); len(res.Quarantined) != 0 {
				t.Fatalf("%s's real rates were held: %+v", p, res.Quarantined)
			}
			if r, err := e.svc.Latest(ctx, "GBP", "USD", p); err == nil {
				compilers[p] = r.Rule
			}
		}
		if len(compilers) != 4 {
			t.Fatalf("compilers pricing GBP before the issuer: %v, want bnm, boc, cbk and fbil", compilers)
		}
		if res := e.ingest(t, "boe"); len(res.Quarantined) != 0 {
			t.Fatalf("the issuer was held: %+v", res.Quarantined)
		}
		gbp, err := e.svc.Latest(ctx, "GBP", "USD", "boe")
		if err != nil || fx.Exact(gbp.Value) != "0.93261" {
			t.Fatalf("GBP/USD from the Bank of England = %+v, %v; want the devalued 0.93261", gbp, err)
		}
		held := e.held(t)
		if len(held) != 4 {
			t.Fatalf("held %+v, want the four compilers' GBP rows", held)
		}
		for _, q := range held {
			pair := q.Rate.Base + "/" + q.Rate.Quote
			if _, ok := compilers[q.Rate.Provider]; !ok || !strings.Contains(pair, "GBP") || q.Against != policy.AgainstIssuer ||
				q.Reference.Provider != "boe" || q.Currency != "GBP" || q.On != "USD" {
				t.Errorf("held %s %s against %s %s: want a compiler's GBP row against the Bank of England", q.Rate.Provider, pair, q.Against, q.Reference.Provider)
			}
			// Held means not priced from now on: the compiler's GBP rate
			// is gone, from PostgreSQL and from the cache.
			if r, err := e.svc.Latest(ctx, q.Rate.Base, q.Rate.Quote, q.Rate.Provider); err == nil {
				t.Errorf("%s's held %s still priced: %+v", q.Rate.Provider, pair, r)
			}
		}
		// Unpinned, GBP is priced by its issuer.
		if r, err := e.svc.Latest(ctx, "GBP", "MYR", ""); err != nil || r.Provider != "boe" || fx.Exact(r.Value) != "3.65246" {
			t.Fatalf("GBP/MYR = %+v, %v; want the Bank of England's 3.65246", r, err)
		}
		// An operator who finds the compiler right releases it, on the
		// figures shown; it is priced again.
		q := held[0]
		d, err := e.st.Quality.Decide(ctx, store.Decision{ID: q.ID, Release: true, Reason: "checked with the publisher", Username: "ops", Figures: q.Figures()}, gate.Cascade)
		if err != nil || d.DecidedOn != q.Figures() {
			t.Fatalf("release = %+v, %v", d, err)
		}
		if err := e.svc.Resync(ctx, q.Rate.Provider); err != nil {
			t.Fatal(err)
		}
		if r, err := e.svc.Latest(ctx, q.Rate.Base, q.Rate.Quote, q.Rate.Provider); err != nil || r.Legs[0].ID != q.Rate.ID {
			t.Fatalf("after release %s/%s = %+v, %v; want the released row %d", q.Rate.Base, q.Rate.Quote, r, err, q.Rate.ID)
		}
	})
}
