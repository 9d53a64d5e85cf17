package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"ces/internal/catalog"
	"ces/internal/provider/ecb"
)

func TestProviders(t *testing.T) {
	type provider struct {
		Key        string `json:"key"`
		Issues     string `json:"issues"`
		Pivot      string `json:"pivot"`
		Cadence    string `json:"cadence"`
		Keyless    bool   `json:"keyless"`
		Configured bool   `json:"configured"`
		Newest     string `json:"newest_publication"`
		Stale      bool   `json:"stale"`
		Currencies []struct {
			Code, First, Last string
		} `json:"currencies"`
	}
	tests := []struct {
		name  string
		now   time.Time
		stale bool
	}{
		// The ECB recording's newest day is Friday 2017-03-03.
		{name: "the Monday after: fresh", now: time.Date(2017, 3, 6, 12, 0, 0, 0, time.UTC)},
		{name: "a week later: stale", now: time.Date(2017, 3, 10, 12, 0, 0, 0, time.UTC), stale: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, options{now: tt.now})
			w.ingest(t, ecbHistory(t)...)
			r := w.get(t, "/api/v1/providers")
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var body struct {
				Providers []provider `json:"providers"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Providers) != len(catalog.Keys()) {
				t.Fatalf("%d providers, want the catalogue's %d", len(body.Providers), len(catalog.Keys()))
			}
			byKey := map[string]provider{}
			for _, p := range body.Providers {
				byKey[p.Key] = p
			}
			e := byKey[ecb.Name]
			if !e.Configured || e.Issues != "EUR" || e.Pivot != "EUR" || e.Cadence != "daily" || !e.Keyless {
				t.Errorf("ecb = %+v", e)
			}
			if e.Newest != "2017-03-03T15:00:00Z" || e.Stale != tt.stale {
				t.Errorf("ecb newest %s stale %v, want 2017-03-03T15:00:00Z stale %v", e.Newest, e.Stale, tt.stale)
			}
			if len(e.Currencies) != 31 {
				t.Errorf("ecb quotes %d currencies, want the recording's 31", len(e.Currencies))
			}
			for _, c := range e.Currencies {
				if c.Code == "EUR" {
					t.Error("the pivot is listed as a quoted currency")
				}
				if c.Code == "USD" && (c.First != "2016-12-05T15:00:00Z" || c.Last != "2017-03-03T15:00:00Z") {
					t.Errorf("USD stored from %s to %s, want 2016-12-05 to 2017-03-03", c.First, c.Last)
				}
			}
			if b := byKey["boc"]; b.Configured || b.Newest != "" || len(b.Currencies) != 0 || b.Issues != "CAD" {
				t.Errorf("boc, not configured, = %+v", b)
			}
			if f := byKey["fred"]; f.Keyless {
				t.Errorf("fred needs a key: %+v", f)
			}
		})
	}
}

// TestCurrenciesNameTheirDefaultSource: /currencies says which provider
// prices each currency by default (its leg against USD, as the source
// policy picks it now).
func TestCurrenciesNameTheirDefaultSource(t *testing.T) {
	type want struct{ code, def string }
	tests := []struct {
		name  string
		world func(t *testing.T) *world
		want  []want
	}{
		{
			name: "the ECB alone, fresh",
			world: func(t *testing.T) *world {
				w := newWorld(t, options{})
				w.ingest(t, ecbHistory(t)...)
				return w
			},
			want: []want{
				// EUR, the ECB's pivot
				{"EUR", "ecb"},
				// USD itself is priced against the euro
				{"USD", "ecb"},
				{"JPY", "ecb"},
			},
		},
		{
			// In May 2026 the ECB's 2017 recording is stale and the CBN's is
			// fresh: a stale source never outranks a fresh one, so the CBN
			// prices every currency it quotes, against USD through NGN.
			name:  "the ECB stale beside a fresh CBN",
			world: func(t *testing.T) *world { return twoSourceWorld(t, options{}) },
			want: []want{
				{"NGN", "cbn"},
				{"EUR", "cbn"},
				{"JPY", "cbn"},
				// only the ECB quotes SEK
				{"SEK", "ecb"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.world(t)
			r := w.get(t, "/api/v1/currencies")
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var body struct {
				Currencies []struct {
					Code    string `json:"code"`
					Default string `json:"default_provider"`
				} `json:"currencies"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			got := map[string]want{}
			for _, c := range body.Currencies {
				got[c.Code] = want{c.Code, c.Default}
			}
			for _, wt := range tt.want {
				if g := got[wt.code]; g != wt {
					t.Errorf("%s: default %q, want %q", wt.code, g.def, wt.def)
				}
			}
		})
	}
}
