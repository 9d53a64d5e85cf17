package admin_test

import (
	"context"
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
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/admin"
	"ces/internal/cache"
	"ces/internal/conversions"
	"ces/internal/httpapi"
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
// Temporal: sign in, read the dashboard, filter rates, open a verified
// conversion, pause and resume ingestion and see Temporal agree.
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
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]activities.Fetcher{oxr.Name: oxr.NewClient(fake.URL, "k", provider.NewHTTPClient())},
		Store:     st, Cache: c, Now: time.Now,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	scheduleID := "ingest-rates-browser-" + testenv.Suffix()
	if _, err := workflows.EnsureSchedule(ctx, tc, workflows.ScheduleOptions{ID: scheduleID, Provider: oxr.Name, TaskQueue: queue, Interval: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	defer tc.ScheduleClient().GetHandle(ctx, scheduleID).Delete(ctx)
	ctrl := workflows.NewControl(tc, oxr.Name, scheduleID)
	if err := ctrl.Trigger(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _ := st.CountRates(ctx, oxr.Name); n == 163 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the triggered ingestion stored nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The API with the console, on a real listener.
	now := func() time.Time { return time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC) }
	svc := rates.New(st, c, rates.Options{Provider: oxr.Name, StaleAfter: 3 * time.Hour, Now: now, Log: quiet})
	console, err := admin.New(admin.Deps{Store: st, Ingestion: ctrl, Provider: oxr.Name, StaleAfter: 3 * time.Hour, TemporalUI: "http://127.0.0.1:8233", Log: quiet, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	app := httpapi.New(httpapi.Deps{
		Rates:       svc,
		Conversions: conversions.New(svc, st, conversions.Options{Margin: decimal.RequireFromString("0.005"), MaxRateAge: 876000 * time.Hour}),
		Admin:       console,
		Log:         quiet,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()
	resp, err := http.Post(base+"/api/v1/convert", "application/json", strings.NewReader(`{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("convert: %v %v", resp, err)
	}
	resp.Body.Close()
	hash, _ := admin.HashPassword(testPassword)
	if err := st.CreateAdmin(ctx, testUser, hash); err != nil {
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

	var freshness, state string
	var shot []byte
	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, testUser),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`#freshness`),
		into(&freshness, chromedp.Text(`#freshness`)),
		into(&state, chromedp.Text(`#schedule-state`)),
		into(&shot, chromedp.FullScreenshot(100)),
	); err != nil {
		t.Fatalf("sign in and dashboard: %v", err)
	}
	if !strings.Contains(freshness, "2022-09-01T03:00:00Z") || !strings.Contains(freshness, "fresh") || state != "running" {
		t.Fatalf("dashboard: freshness %q, schedule %q", freshness, state)
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

	if err := chromedp.Do(bctx,
		chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`#pause-reason`),
		chromedp.SendKeys(`#pause-reason`, "browser test"),
		chromedp.Click(`#pause`),
		chromedp.WaitVisible(`#resume`),
		into(&state, chromedp.Text(`#schedule-state`)),
	); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if s, err := ctrl.Status(ctx); err != nil || !s.Paused || state != "paused" {
		t.Fatalf("after pause: page %q, Temporal %+v %v", state, s, err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(`#resume`),
		chromedp.WaitVisible(`#pause`),
		into(&state, chromedp.Text(`#schedule-state`)),
	); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if s, err := ctrl.Status(ctx); err != nil || s.Paused || state != "running" {
		t.Fatalf("after resume: page %q, Temporal %+v %v", state, s, err)
	}
}

// into runs a value-returning action as a step, storing its value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}
