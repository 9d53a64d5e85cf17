package oxr_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/oxr"
	"ces/internal/provider/providertest"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/oxr/latest-2022-09-01.json")
}

func rateOf(t *testing.T, set fx.RateSet, code string) string {
	t.Helper()
	for _, r := range set.Rates {
		if r.Quote == code {
			return fx.Exact(r.Value)
		}
	}
	t.Fatalf("no %s in set", code)
	return ""
}

func TestLatest(t *testing.T) {
	var gotPath, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotKey = r.URL.Path, r.URL.Query().Get("app_id")
		w.Write(fixture(t))
	}))
	defer srv.Close()
	sets, err := oxr.NewClient(srv.URL, "k-123", srv.Client()).Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/latest.json" || gotKey != "k-123" {
		t.Fatalf("requested %s with app_id %q", gotPath, gotKey)
	}
	if len(sets) != 1 {
		t.Fatalf("latest = %d sets, want 1", len(sets))
	}
	set := sets[0]
	if set.Base != "USD" || set.Provider != "openexchangerates" {
		t.Fatalf("base/provider = %s/%s", set.Base, set.Provider)
	}
	if want := time.Unix(1662001200, 0).UTC(); !set.AsOf.Equal(want) {
		t.Fatalf("as_of = %s, want %s", set.AsOf, want)
	}
	// 169 codes: 5 are not ISO 4217 and USD quotes itself.
	if len(set.Rates) != 163 {
		t.Fatalf("rates = %d, want 163", len(set.Rates))
	}
	if got := strings.Join(set.Skipped, ","); got != "BTC,CNH,GGP,IMP,JEP" {
		t.Fatalf("skipped = %s", got)
	}
	for code, want := range map[string]string{"NGN": "418.065024", "EUR": "0.997656", "JPY": "139.48916667", "XAU": "0.00058663", "KWD": "0.30825"} {
		if got := rateOf(t, set, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

func TestHistoryOneDayPath(t *testing.T) {
	var gotPath, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotKey = r.URL.Path, r.URL.Query().Get("app_id")
		w.Write(fixture(t))
	}))
	defer srv.Close()
	c := oxr.NewClient(srv.URL, "k", srv.Client())
	oxr.SetClock(c, func() time.Time { return time.Date(2022, 9, 2, 12, 0, 0, 0, time.UTC) })
	d := time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC)
	sets, err := c.History(context.Background(), d, d)
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/historical/2022-09-01.json" || gotKey != "k" {
		t.Fatalf("requested %s with app_id %q", gotPath, gotKey)
	}
	if len(sets) != 1 || sets[0].AsOf.Format(time.DateOnly) != "2022-09-01" {
		t.Fatalf("got %d sets, want the one of 2022-09-01", len(sets))
	}
}

func TestBadKey(t *testing.T) {
	d := time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		call func(*oxr.Client) ([]fx.RateSet, error)
	}{
		{"latest", func(c *oxr.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history of one day", func(c *oxr.Client) ([]fx.RateSet, error) { return c.History(context.Background(), d, d) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(401)
				w.Write([]byte(`{"error":true,"status":401,"message":"invalid_app_id","description":"Invalid App ID provided."}`))
			}))
			defer srv.Close()
			c := oxr.NewClient(srv.URL, "bad-key-value", srv.Client())
			oxr.SetClock(c, func() time.Time { return d.Add(36 * time.Hour) })
			_, err := tt.call(c)
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeAuthFailed {
				t.Fatalf("err = %v, want %s", err, provider.TypeAuthFailed)
			}
			if strings.Contains(err.Error(), "bad-key-value") {
				t.Fatalf("error leaks the key: %v", err)
			}
		})
	}
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"not json", `<xml/>`},
		{"truncated", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0.99`},
		{"missing base", `{"timestamp":1662001200,"rates":{"EUR":0.99618}}`},
		{"unknown base", `{"timestamp":1662001200,"base":"XYZ","rates":{"EUR":0.99618}}`},
		{"missing timestamp", `{"base":"USD","rates":{"EUR":0.99618}}`},
		{"no rates", `{"timestamp":1662001200,"base":"USD"}`},
		{"rates not an object", `{"timestamp":1662001200,"base":"USD","rates":[1,2]}`},
		{"rate as string", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":"0.99"}}`},
		{"null rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":null}}`},
		{"zero rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0}}`},
		{"negative rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":-0.99}}`},
		{"absurd rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":1e300}}`},
		{"duplicate code", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0.99,"EUR":0.98}}`},
		{"api error body", `{"error":true,"status":429,"message":"not_allowed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oxr.Parse("openexchangerates", []byte(tt.payload))
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
		})
	}
}

func TestExponentNotationIsExact(t *testing.T) {
	set, err := oxr.Parse("openexchangerates", []byte(`{"timestamp":1662001200,"base":"USD","rates":{"XAU":5.8275e-4}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rateOf(t, set, "XAU"); got != "0.00058275" {
		t.Fatalf("XAU = %s", got)
	}
}

var _ provider.Source = (*oxr.Client)(nil)

// historyServer answers historical/YYYY-MM-DD.json with the recording,
// its timestamp moved to 23:59:59 UTC of the asked day, unless answer
// says otherwise for that day (a status code, or a body). It records the
// most requests it ever had in flight at once.
type historyServer struct {
	*httptest.Server
	requests, inFlight, maxInFlight atomic.Int32
}

func newHistoryServer(t *testing.T, answer func(day string) (int, string)) *historyServer {
	t.Helper()
	recording := string(fixture(t))
	hs := &historyServer{}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.requests.Add(1)
		n := hs.inFlight.Add(1)
		defer hs.inFlight.Add(-1)
		for m := hs.maxInFlight.Load(); n > m && !hs.maxInFlight.CompareAndSwap(m, n); m = hs.maxInFlight.Load() {
		}
		time.Sleep(20 * time.Millisecond) // let the client pile up requests, if it would
		day, ok := strings.CutPrefix(r.URL.Path, "/historical/")
		day, ok2 := strings.CutSuffix(day, ".json")
		d, err := time.Parse(time.DateOnly, day)
		if !ok || !ok2 || err != nil {
			http.NotFound(w, r)
			return
		}
		if answer != nil {
			if status, body := answer(day); status != 0 {
				w.WriteHeader(status)
				w.Write([]byte(body))
				return
			}
		}
		ts := d.Add(24*time.Hour - time.Second).Unix()
		w.Write([]byte(strings.Replace(recording, `"timestamp": 1662001200`, `"timestamp": `+strconv.FormatInt(ts, 10), 1)))
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *historyServer) client(limit int, now time.Time) *oxr.Client {
	c := oxr.NewClient(hs.URL, "k-secret", hs.Client())
	if limit != 0 {
		c.MaxInFlight = limit
	}
	oxr.SetClock(c, func() time.Time { return now })
	return c
}

func TestHistoryBoundedConcurrency(t *testing.T) {
	now := time.Date(2022, 12, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		limit int // 0 keeps NewClient's default
		want  int32
		days  int
	}{
		{"default of 4", 0, 4, 20},
		{"limit 3", 3, 3, 10},
		{"serial", 1, 1, 5},
		{"limit above the day count", 16, 16, 6},
		{"negative means the default", -1, 4, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHistoryServer(t, nil)
			from := providertest.Day("2022-08-01")
			to := from.AddDate(0, 0, tt.days-1)
			sets, err := hs.client(tt.limit, now).History(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got := hs.requests.Load(); got != int32(tt.days) {
				t.Fatalf("requests = %d, want one per day (%d)", got, tt.days)
			}
			if m := hs.maxInFlight.Load(); m > tt.want {
				t.Fatalf("%d requests in flight at once, limit %d", m, tt.want)
			} else if tt.want > 1 && m < 2 {
				t.Fatalf("at most %d request in flight: History did not run requests concurrently", m)
			} else {
				t.Logf("max in flight %d (limit %d)", m, tt.want)
			}
			if len(sets) != tt.days {
				t.Fatalf("sets = %d, want %d", len(sets), tt.days)
			}
			for i, s := range sets {
				if want := from.AddDate(0, 0, i).Format(time.DateOnly); s.AsOf.Format(time.DateOnly) != want {
					t.Fatalf("set %d dated %s, want %s (oldest first)", i, s.AsOf, want)
				}
				if s.Base != "USD" || len(s.Rates) != 163 {
					t.Fatalf("set %d: %s with %d rates", i, s.Base, len(s.Rates))
				}
			}
			if got := rateOf(t, sets[0], "NGN"); got != "418.065024" {
				t.Fatalf("NGN = %s", got)
			}
		})
	}
}

func TestNewClientDefaultMaxInFlight(t *testing.T) {
	if got := oxr.NewClient("", "k", nil).MaxInFlight; got != 4 || oxr.DefaultMaxInFlight != 4 {
		t.Fatalf("MaxInFlight = %d, want 4", got)
	}
}

func TestHistoryOutcomes(t *testing.T) {
	now := time.Date(2022, 9, 3, 23, 30, 0, 0, time.UTC) // the stand-in dates each day 23:59:59
	tests := []struct {
		name     string
		from, to string
		answer   func(day string) (int, string)
		dates    []string
		requests int32
		wantType string // "" means success; "retryable" a plain error
	}{
		{"missing days skipped", "2022-08-26", "2022-09-01",
			func(d string) (int, string) {
				if d == "2022-08-27" || d == "2022-08-28" {
					return 404, `{"error":true,"status":404,"message":"not_found"}`
				}
				return 0, ""
			},
			[]string{"2022-08-26", "2022-08-29", "2022-08-30", "2022-08-31", "2022-09-01"}, 7, ""},
		{"days after today not asked", "2022-09-01", "2022-09-10", nil,
			[]string{"2022-09-01", "2022-09-02", "2022-09-03"}, 3, ""},
		{"range wholly in the future", "2022-09-04", "2022-09-10", nil, nil, 0, ""},
		{"one payload answering two days kept once", "2022-09-01", "2022-09-03",
			func(d string) (int, string) {
				if d >= "2022-09-02" {
					return 200, strings.Replace(`{"timestamp": TS, "base": "USD", "rates": {"EUR": 0.99, "NGN": 418.1}}`, "TS", strconv.FormatInt(providertest.Day("2022-09-02").Add(12*time.Hour).Unix(), 10), 1)
				}
				return 0, ""
			},
			[]string{"2022-09-01", "2022-09-02"}, 3, ""},
		{"two different rate sets at one time fail", "2022-09-01", "2022-09-02",
			func(d string) (int, string) {
				eur := map[string]string{"2022-09-01": "0.99", "2022-09-02": "0.98"}[d]
				return 200, `{"timestamp": 1662120000, "base": "USD", "rates": {"EUR": ` + eur + `}}`
			}, nil, 2, provider.TypeInvalidPayload},
		{"refused key fails", "2022-08-26", "2022-09-01",
			func(d string) (int, string) {
				if d == "2022-08-29" {
					return 401, `{"error":true,"status":401,"message":"invalid_app_id"}`
				}
				return 0, ""
			}, nil, -1, provider.TypeAuthFailed},
		{"broken day fails", "2022-08-26", "2022-09-01",
			func(d string) (int, string) {
				if d == "2022-08-30" {
					return 200, `{"timestamp": 1661860800, "base": "USD", "rates": {"EUR": -1}}`
				}
				return 0, ""
			}, nil, -1, provider.TypeInvalidPayload},
		{"server error fails retryably", "2022-08-26", "2022-09-01",
			func(d string) (int, string) {
				if d == "2022-08-31" {
					return 503, ""
				}
				return 0, ""
			}, nil, -1, "retryable"},
		{"reversed range", "2022-09-01", "2022-08-31", nil, nil, 0, provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHistoryServer(t, tt.answer)
			sets, err := hs.client(2, now).History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if tt.requests >= 0 && hs.requests.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", hs.requests.Load(), tt.requests)
			}
			switch tt.wantType {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "retryable":
				var pe *provider.PermanentError
				if err == nil || errors.As(err, &pe) {
					t.Fatalf("err = %v, want a retryable error", err)
				}
				return
			default:
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType {
					t.Fatalf("err = %v, want %s", err, tt.wantType)
				}
				if strings.Contains(err.Error(), "k-secret") {
					t.Fatalf("error leaks the key: %v", err)
				}
				return
			}
			var dates []string
			for _, s := range sets {
				dates = append(dates, s.AsOf.Format(time.DateOnly))
			}
			if strings.Join(dates, ",") != strings.Join(tt.dates, ",") {
				t.Fatalf("dates = %v, want %v", dates, tt.dates)
			}
		})
	}
}
