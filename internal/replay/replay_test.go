package replay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ces/activities"
	"ces/internal/catalog"
	"ces/internal/config"
	"ces/internal/replay"
)

// withoutReplay names the catalogue's publishers that have an adapter but
// no manifest, and why; every other one must replay.
var withoutReplay = map[string]string{
	// Its one recording answers latest.json; history asks
	// historical/<date>.json, which was never recorded.
	"openexchangerates": "no recording of a historical answer",
	// The legal pegs are compiled in (internal/catalog): nothing to fetch.
	"peg": "no publisher to call",
}

// TestAdaptersAgainstReplay builds every adapter the worker builds,
// through the same configuration variables make up sets, against the
// replay server, and checks each gets its newest publication and the
// history its manifest claims.
func TestAdaptersAgainstReplay(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata")
	h, err := replay.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	environ := map[string]string{
		"DATABASE_URL":    "postgres://ces@127.0.0.1/ces",
		"REDIS_URL":       "redis://127.0.0.1:6379/0",
		"FX_FRED_API_KEY": "replay",
		"FX_API_KEY":      "replay",
	}
	var keys []string
	for _, p := range catalog.All() {
		keys = append(keys, p.Key)
		environ["FX_"+strings.ToUpper(p.Key)+"_BASE_URL"] = srv.URL + "/" + p.Key
	}
	environ["FX_PROVIDERS"] = strings.Join(keys, ",")
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	sources := activities.NewSources(cfg)

	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			src, ok := sources[key]
			if !ok {
				t.Skipf("%s has no adapter", key)
			}
			m, err := replay.ReadManifest(filepath.Join(dir, key))
			if why, skip := withoutReplay[key]; skip {
				if err == nil {
					t.Fatalf("%s has a manifest now: remove it from withoutReplay (%s)", key, why)
				}
				t.Skip(why)
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			latest, err := src.Latest(ctx)
			if err != nil {
				t.Fatalf("Latest: %v", err)
			}
			if len(latest) == 0 || len(latest[0].Rates) == 0 {
				t.Fatalf("Latest returned no rates: %+v", latest)
			}
			from, to, err := m.Backfill.Dates()
			if err != nil {
				t.Fatal(err)
			}
			hist, err := src.History(ctx, from, to)
			if err != nil {
				t.Fatalf("History %s..%s: %v", m.Backfill.From, m.Backfill.To, err)
			}
			if len(hist) == 0 {
				t.Fatalf("History %s..%s returned no set", m.Backfill.From, m.Backfill.To)
			}
			t.Logf("latest %s (%d sets), history %d sets", latest[0].AsOf.Format(time.DateOnly), len(latest), len(hist))
		})
	}
}

func TestUnmatchedIsNotFound(t *testing.T) {
	h, err := replay.Load(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"/nosuch/x", "/ecb/nosuch.xml"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, rec.Code)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "2026-03-20", true},
		{"2026-03-*", "2026-03-20", true},
		{"2026-03-*", "2026-04-20", false},
		{"/a/*/c", "/a/b/x/c", true},
		{"/a/*/c", "/a/b/x/d", false},
		{"ab*ba", "aba", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, tt := range tests {
		if got := replay.Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestRoutes checks a manifest's matching on a small folder of its own:
// method, query, form, header and body patterns, first match first, the
// answer's type and headers, and the unmatched status.
func TestRoutes(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub")
	if err := os.Mkdir(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"a.csv": "a", "b.xml": "b", "form.html": "f"} {
		if err := os.WriteFile(filepath.Join(pub, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest := `{
  "backfill": {"from": "2026-03-01", "to": "2026-03-02"},
  "routes": [
    {"path": "/day", "query": {"date": "2026-03-01"}, "file": "a.csv"},
    {"path": "/day", "query": {"date": "*"}, "file": "b.xml"},
    {"path": "/form", "file": "form.html", "type": "text/html", "headers": {"Set-Cookie": "s=1"}},
    {"method": "POST", "path": "/form", "form": {"token": "*", "month": "3"}, "file": "a.csv"},
    {"method": "POST", "path": "/soap", "header": {"SOAPAction": "*Latest*"}, "body": "*<x>*", "file": "b.xml"}
  ],
  "unmatched": 410
}`
	if err := os.WriteFile(filepath.Join(pub, replay.ManifestName), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := replay.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		method, target, ctype, header, body string
		status                              int
		want                                string
	}{
		{"GET", "/pub/day?date=2026-03-01", "", "", "", 200, "a"},
		{"GET", "/pub/day?date=2026-12-07", "", "", "", 200, "b"},
		{"GET", "/pub/day", "", "", "", 410, ""},
		{"GET", "/pub/form", "", "", "", 200, "f"},
		{"POST", "/pub/form", form, "", "token=x&month=3", 200, "a"},
		{"POST", "/pub/form", form, "", "month=3", 410, ""},
		{"POST", "/pub/soap", "text/xml", `"urn:Latest"`, "<e><x>1</x></e>", 200, "b"},
		{"POST", "/pub/soap", "text/xml", `"urn:Range"`, "<e><x>1</x></e>", 410, ""},
		{"GET", "/other/day", "", "", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			if tt.header != "" {
				r.Header.Set("SOAPAction", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status || (tt.want != "" && rec.Body.String() != tt.want) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.want)
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/pub/form", nil))
	if rec.Header().Get("Content-Type") != "text/html" || rec.Header().Get("Set-Cookie") != "s=1" {
		t.Errorf("form answer headers: %v", rec.Header())
	}
}

func TestManifestNamesMissingFile(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"backfill": {"from": "2026-03-01", "to": "2026-03-02"}, "routes": [{"path": "/x", "file": "absent.csv"}]}`
	if err := os.WriteFile(filepath.Join(dir, replay.ManifestName), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.ReadManifest(dir); err == nil {
		t.Fatal("a manifest naming an absent file was accepted")
	}
}
