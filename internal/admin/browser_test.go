package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/admin"
	"ces/internal/cache"
	"ces/internal/clients"
	"ces/internal/conversions"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/httpapi"
	"ces/internal/ingestion"
	"ces/internal/provider"
	"ces/internal/provider/oxr"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (make test installs it with apt)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// TestConsoleInBrowser drives the console in headless Chromium over a
// stack that ingested the recorded Open Exchange Rates payload through
// Temporal, next to an ECB schedule that has not run: sign in, read both
// providers on the dashboard, filter rates, open a verified conversion
// and one made through a quote (its quote, API key and rate rows), release
// a quarantined rate, pause and resume ingestion and see Temporal agree;
// then, signed in as a viewer, see the next held rate without any button
// to decide it.
func TestConsoleInBrowser(t *testing.T) {
	browser := chromium(t)
	ctx := context.Background()

	// The stack: database, Redis, Temporal, a worker and a fake provider.
	db := testenv.DB(t)
	st := store.New(db)
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	payload, err := os.ReadFile("../../testdata/oxr/latest-2022-09-01.json")
	if err != nil {
		t.Fatal(err)
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(payload) }))
	defer fake.Close()
	sealing := testenv.NewSealing(t)
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{oxr.Name: oxr.NewClient(fake.URL, "k", provider.NewHTTPClient(0))},
		Rates:     st.Rates, Quality: st.Quality, Audit: st.Audit, Cache: c, Now: time.Now, Signer: sealing.Signer, Anchor: sealing.Anchor,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	controls := map[string]admin.Ingestion{}
	var ctrl *ingestion.Control
	for _, name := range []string{"ecb", oxr.Name} {
		scheduleID := "ingest-rates-browser-" + name + "-" + testenv.Suffix()
		if _, err := ingestion.EnsureSchedule(ctx, tc, ingestion.ScheduleOptions{ID: scheduleID, Provider: name, TaskQueue: queue, Interval: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		defer tc.ScheduleClient().GetHandle(ctx, scheduleID).Delete(ctx)
		ctrl = ingestion.NewControl(tc, name, scheduleID)
		controls[name] = ctrl
	}
	if err := ctrl.Trigger(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _ := st.Rates.CountRates(ctx, oxr.Name); n == 163 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the triggered ingestion stored nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The API with the console, on a real listener.
	now := func() time.Time { return time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC) }
	staleAfter := func(string) time.Duration { return 3 * time.Hour }
	svc := rates.New(st.Rates, st.Quality, c, rates.Options{Providers: []string{oxr.Name}, StaleAfter: staleAfter, Now: now, Log: quiet})
	console, err := admin.New(admin.Deps{
		Stores: admin.StoresOf(st), Verifications: ingestion.NewVerifications(tc, queue), Ingestion: controls, Providers: []string{"ecb", oxr.Name}, StaleAfter: staleAfter, Rates: svc,
		TemporalUI: "http://127.0.0.1:8233", Log: quiet, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	deps := httpapi.Deps{
		Auth:        clients.NewAuthenticator(st.Keys, rdb, prefix, quiet),
		Rates:       svc,
		Conversions: conversions.New(svc, st.Conversions, conversions.Options{Margin: decimal.RequireFromString("0.005"), MaxRateAge: func(string) time.Duration { return 876000 * time.Hour }}),
		Admin:       console,
		Log:         quiet,
	}
	// The public API and, on a listener of its own (ADMIN_ADDR), the console.
	listen := func(app *fiber.App) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go app.Listener(ln)
		t.Cleanup(func() { app.Shutdown() })
		return "http://" + ln.Addr().String()
	}
	public, base := listen(httpapi.New(deps)), listen(httpapi.NewAdmin(deps))
	k, key, keyHash, err := clients.NewKey("browser test", clients.DefaultScopes, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Keys.CreateAPIKey(ctx, k, keyHash); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, public+"/api/v1/convert", strings.NewReader(`{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("convert: %v %v", resp, err)
	}
	resp.Body.Close()
	// And one through a quote: its page tells the quote and the key.
	var quote, quoted struct {
		ID string `json:"id"`
	}
	for _, step := range []struct {
		path, body string
		into       any
	}{
		{"/api/v1/quotes", `{"amount":"250.00","from_currency":"USD","to_currency":"NGN"}`, &quote},
		{"/api/v1/convert", "", &quoted},
	} {
		if step.body == "" {
			step.body = `{"quote_id":"` + quote.ID + `"}`
		}
		req, _ := http.NewRequest(http.MethodPost, public+step.path, strings.NewReader(step.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("%s: %v %v", step.path, resp, err)
		}
		err = json.NewDecoder(resp.Body).Decode(step.into)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", step.path, err)
		}
	}
	storedQuote, err := st.Conversions.QuoteByID(ctx, quote.ID)
	if err != nil || storedQuote.ExecutedBy != quoted.ID {
		t.Fatalf("quote %s: %+v %v, want executed by %s", quote.ID, storedQuote, err, quoted.ID)
	}
	hash, _ := admin.HashPassword(testPassword)
	if _, err := st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: testUser, PasswordHash: hash, Role: store.RoleAdmin, By: "test"}); err != nil {
		t.Fatal(err)
	}

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	var freshness, ecbFreshness, state, held string
	var providers []string
	var shot []byte
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, testUser),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#freshness-openexchangerates`),
		into(&providers, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('section.provider h2')).map(e => e.textContent)`)),
		into(&freshness, chromedp.Text(`#freshness-openexchangerates`)),
		into(&ecbFreshness, chromedp.Text(`#freshness-ecb`)),
		into(&state, chromedp.Text(`#schedule-state-openexchangerates`)),
		into(&held, chromedp.Text(`#held`)),
		into(&shot, chromedp.FullScreenshot(100)),
	); err != nil {
		t.Fatalf("sign in and dashboard: %v", err)
	}
	if strings.Join(providers, ",") != "ecb: European Central Bank,openexchangerates: Open Exchange Rates" {
		t.Fatalf("dashboard providers = %v", providers)
	}
	if !strings.Contains(freshness, "2022-09-01T03:00:00Z") || !strings.Contains(freshness, "1h ago: fresh") || state != "running" {
		t.Fatalf("dashboard: freshness %q, schedule %q", freshness, state)
	}
	if !strings.Contains(ecbFreshness, "No rates") || !strings.Contains(held, "No quarantined rate") {
		t.Fatalf("dashboard: ecb %q, quality gate %q", ecbFreshness, held)
	}
	artifacts := filepath.Join("..", "..", ".artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err == nil {
		os.WriteFile(filepath.Join(artifacts, "admin-dashboard.png"), shot, 0o644)
	}

	var pairs []string
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/rates"),
		chromedp.WaitVisible(`#filter-base`),
		chromedp.SendKeys(`#filter-base`, "USD"),
		chromedp.SendKeys(`#filter-quote`, "NGN"),
		chromedp.Click(`#filter`),
		chromedp.WaitVisible(`#rates td.pair`),
		into(&pairs, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#rates td.pair')).map(e => e.textContent)`)),
	); err != nil {
		t.Fatalf("rates filter: %v", err)
	}
	if len(pairs) != 1 || pairs[0] != "USD/NGN" {
		t.Fatalf("filtered rates = %v, want one USD/NGN row", pairs)
	}

	// The publisher's page, from the dashboard's link: its timeline and
	// the SVG chart, laid out by the browser (a width the page gave it).
	var summary string
	var points int
	var chartWidth float64
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`a[href="/admin/publishers/openexchangerates"]`),
		chromedp.Click(`a[href="/admin/publishers/openexchangerates"]`),
		chromedp.WaitVisible(`#chart svg`),
		into(&summary, chromedp.Text(`#timeline-summary`)),
		into(&points, chromedp.Evaluate[int](`document.querySelectorAll('#chart svg circle.released').length`)),
		into(&chartWidth, chromedp.Evaluate[float64](`document.querySelector('#chart svg').getBoundingClientRect().width`)),
		into(&shot, chromedp.FullScreenshot(100)),
	); err != nil {
		t.Fatalf("publisher page: %v", err)
	}
	if !strings.Contains(summary, "with a publication") || points < 1 || chartWidth < 300 {
		t.Fatalf("publisher page: summary %q, %d points, chart %v px wide", summary, points, chartWidth)
	}
	os.WriteFile(filepath.Join(artifacts, "admin-publisher.png"), shot, 0o644)

	var verification string
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/conversions"),
		chromedp.WaitVisible(`#conversions a`),
		chromedp.Click(`#conversions a`),
		chromedp.WaitVisible(`#verification`),
		into(&verification, chromedp.Text(`#verification`)),
	); err != nil {
		t.Fatalf("conversion detail: %v", err)
	}
	if !strings.Contains(verification, "Hash verified") {
		t.Fatalf("conversion: %q", verification)
	}

	// The receipt made through a quote tells its quote and its key, never
	// the key itself.
	var quoteID, quoteExpires, quoteMid, quoteApplied, quoteConverted, executed, keyName, keyPrefix, keyStatus, body string
	var legLinks []string
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/conversions/"+quoted.ID),
		chromedp.WaitVisible(`#quote-id`),
		into(&quoteID, chromedp.Text(`#quote-id`)),
		into(&quoteExpires, chromedp.Text(`#quote-expires`)),
		into(&quoteMid, chromedp.Text(`#quote-mid`)),
		into(&quoteApplied, chromedp.Text(`#quote-applied`)),
		into(&quoteConverted, chromedp.Text(`#quote-converted`)),
		into(&executed, chromedp.Text(`#quote-executed`)),
		into(&keyName, chromedp.Text(`#key-name`)),
		into(&keyPrefix, chromedp.Text(`#key-prefix`)),
		into(&keyStatus, chromedp.Text(`#key-status`)),
		into(&legLinks, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#legs a')).map(e => e.getAttribute('href'))`)),
		into(&body, chromedp.Evaluate[string](`document.documentElement.outerHTML`)),
		into(&shot, chromedp.FullScreenshot(100)),
	); err != nil {
		t.Fatalf("quoted conversion: %v", err)
	}
	os.WriteFile(filepath.Join(artifacts, "admin-conversion-quoted.png"), shot, 0o644)
	sq := storedQuote.Quote
	if quoteID != quote.ID || quoteExpires != sq.ExpiresAt.Format(time.RFC3339) || quoteMid != sq.MidRate.String() || quoteApplied != sq.AppliedRate.String() ||
		!strings.HasPrefix(quoteConverted, fx.FormatAmount("NGN", sq.ConvertedAmount)+" NGN") || executed != "by this conversion" {
		t.Fatalf("the quote on the page: id %q, expires %q, mid %q, applied %q, converted %q, executed %q; stored %+v",
			quoteID, quoteExpires, quoteMid, quoteApplied, quoteConverted, executed, sq)
	}
	if keyName != "browser test" || keyPrefix != k.Prefix+"…" || keyStatus != "active" || strings.Contains(body, key) {
		t.Fatalf("the key on the page: name %q, prefix %q (want %q), status %q, shows the key itself: %v", keyName, keyPrefix, k.Prefix, keyStatus, strings.Contains(body, key))
	}
	if len(legLinks) != 1 || legLinks[0] != fmt.Sprintf("/admin/rates/%d", sq.Legs[0].ID) {
		t.Fatalf("leg links %q, want the quote's rate row %d", legLinks, sq.Legs[0].ID)
	}

	// The verify button runs VerifyAuditLog on the worker, through Temporal.
	sealing.SealAll(t, st)
	var verified string
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/integrity"),
		chromedp.WaitVisible(`#verify`),
		chromedp.Click(`#verify-full`),
		chromedp.Click(`#verify`),
		chromedp.WaitVisible(`#verify-finished`),
		into(&verified, chromedp.Text(`#verify-result`)),
	); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !strings.Contains(verified, "Verified") || !strings.Contains(verified, "by "+testUser) || !strings.Contains(verified, "(every row): 2 audit rows checked") {
		t.Fatalf("verify result: %q", verified)
	}
	actions, err := st.Console.AdminActions(ctx, 1)
	if err != nil || len(actions) != 1 || actions[0].Action != "verify-audit" {
		t.Fatalf("admin actions = %+v, %v", actions, err)
	}
	wid, ok := strings.CutPrefix(actions[0].Outcome, "started ")
	if desc, err := tc.DescribeWorkflowExecution(ctx, wid, ""); !ok || err != nil ||
		desc.WorkflowExecutionInfo.Type.Name != flow.VerifyAuditLogName || desc.WorkflowExecutionInfo.Status.String() != "Completed" {
		t.Fatalf("the verification %q is not a completed VerifyAuditLog run in Temporal: %v %v", actions[0].Outcome, desc, err)
	}

	// The naira's devaluation of June 2023, as the next publication: held
	// by the gate, then released from the quality page in one step.
	q := quarantineNaira(t, st)
	var flash, status string
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`#held a`),
		chromedp.Click(`#held a`),
		chromedp.WaitVisible(fmt.Sprintf(`#release-reason-%d`, q.ID)),
		chromedp.SendKeys(fmt.Sprintf(`#release-reason-%d`, q.ID), "CBN unified the windows: real devaluation"),
		into(&shot, chromedp.FullScreenshot(100)),
		chromedp.Click(fmt.Sprintf(`#release-%d`, q.ID)),
		chromedp.WaitVisible(`#decided td.status`),
		into(&flash, chromedp.Text(`.flash`)),
		into(&status, chromedp.Text(`#decided td.status`)),
	); err != nil {
		t.Fatalf("release: %v", err)
	}
	os.WriteFile(filepath.Join(artifacts, "admin-quality.png"), shot, 0o644)
	if got, err := st.Quality.Quarantine(ctx, q.ID); err != nil || got.Status != store.QuarantineReleased || status != "released" || !strings.Contains(flash, "done") {
		t.Fatalf("after release: page %q %q, store %+v %v", flash, status, got, err)
	}

	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`#pause-reason-openexchangerates`),
		chromedp.SendKeys(`#pause-reason-openexchangerates`, "browser test"),
		chromedp.Click(`#pause-openexchangerates`),
		chromedp.WaitVisible(`#resume-openexchangerates`),
		into(&state, chromedp.Text(`#schedule-state-openexchangerates`)),
	); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if s, err := ctrl.Status(ctx); err != nil || !s.Paused || state != "paused" {
		t.Fatalf("after pause: page %q, Temporal %+v %v", state, s, err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(`#resume-openexchangerates`),
		chromedp.WaitVisible(`#pause-openexchangerates`),
		into(&state, chromedp.Text(`#schedule-state-openexchangerates`)),
	); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if s, err := ctrl.Status(ctx); err != nil || s.Paused || state != "running" {
		t.Fatalf("after resume: page %q, Temporal %+v %v", state, s, err)
	}

	// A viewer reads the held rate on the quality page but is offered no
	// button to decide it, nor any other action.
	q = quarantineNaira(t, st)
	if _, err := st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "viewer@ces", PasswordHash: hash, Role: store.RoleViewer, By: "test"}); err != nil {
		t.Fatal(err)
	}
	var role string
	var buttons []string
	if err := chromedp.Do(bctx,
		chromedp.Click(`header form.inline button`),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "viewer@ces"),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#read-only`),
		chromedp.Navigate(base+"/admin/quality"),
		chromedp.WaitVisible(fmt.Sprintf(`#quarantine-%d`, q.ID)),
		into(&role, chromedp.Text(`#role`)),
		into(&buttons, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('main button')).map(e => e.id || e.textContent)`)),
		into(&shot, chromedp.FullScreenshot(100)),
	); err != nil {
		t.Fatalf("viewer: %v", err)
	}
	os.WriteFile(filepath.Join(artifacts, "admin-quality-viewer.png"), shot, 0o644)
	if role != "viewer" || len(buttons) != 0 {
		t.Fatalf("the viewer's quality page: role %q, buttons %q; want none", role, buttons)
	}
}

// quarantineNaira stores an Open Exchange Rates USD/NGN 40% above the
// ingested one, through the quality gate, and returns its quarantine.
func quarantineNaira(t *testing.T, st *store.Store) store.Quarantine {
	t.Helper()
	ctx := context.Background()
	prev, err := st.Rates.LatestServable(ctx, []string{oxr.Name}, []string{"NGN"}, time.Time{})
	if err != nil || len(prev) != 1 {
		t.Fatalf("ingested USD/NGN: %v %v", prev, err)
	}
	at := prev[0].AsOf.Add(time.Hour)
	set := fx.RateSet{Provider: oxr.Name, Base: "USD", AsOf: at, PayloadHash: strings.Repeat("b", 64),
		Rates: []fx.QuotedRate{{Quote: "NGN", Value: prev[0].Value.Mul(decimal.RequireFromString("1.4")).Round(4)}}}
	res, err := st.Rates.InsertRates(ctx, set, store.Origin{WorkflowID: "browser-test", RunID: "r", FetchedAt: at, Judge: gate.Judge(decimal.RequireFromString("0.25"))})
	if err != nil || len(res.Quarantined) != 1 {
		t.Fatalf("insert the devalued naira: %+v %v", res, err)
	}
	return res.Quarantined[0]
}

// into runs a value-returning action as a step, storing its value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}
