package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *API) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestOperatorGauges(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	none := func(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, nil }
	tests := []struct {
		name     string
		waiting  func(context.Context) (Waiting, error)
		verified LastVerification
		checks   map[string]error
		want     []string
		absent   []string
	}{
		{
			name: "held, suspended, a failed verification, Redis down",
			waiting: func(context.Context) (Waiting, error) {
				return Waiting{Held: 3, OldestHeld: now.Add(-90 * time.Second), Suspended: 1}, nil
			},
			verified: func(context.Context) (bool, time.Time, bool, error) { return false, now.Add(-time.Minute), true, nil },
			checks:   map[string]error{"postgres": nil, "redis": errors.New("dial tcp: refused")},
			want: []string{"ces_quality_held_rates 3", "ces_quality_oldest_held_seconds 90", "ces_quality_suspended_pairs 1",
				"ces_audit_verification_ok 0", "ces_audit_verification_age_seconds 60",
				`ces_dependency_up{dependency="postgres"} 1`, `ces_dependency_up{dependency="redis"} 0`},
		},
		{
			name:     "nothing waits, never verified",
			waiting:  func(context.Context) (Waiting, error) { return Waiting{}, nil },
			verified: func(context.Context) (bool, time.Time, bool, error) { return false, time.Time{}, false, nil },
			want:     []string{"ces_quality_held_rates 0", "ces_quality_oldest_held_seconds 0", "ces_quality_suspended_pairs 0"},
			absent:   []string{"ces_audit_verification_ok ", "ces_dependency_up{"},
		},
		{
			name:    "the database cannot say",
			waiting: func(context.Context) (Waiting, error) { return Waiting{}, errors.New("down") },
			verified: func(context.Context) (bool, time.Time, bool, error) {
				return false, time.Time{}, false, errors.New("down")
			},
			absent: []string{"ces_quality_held_rates ", "ces_audit_verification_ok "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewAPI(nil, none, clock)
			m.WatchWaiting(tt.waiting, clock)
			m.WatchVerification(tt.verified, clock)
			for name, err := range tt.checks {
				m.Dependency(name, err)
			}
			out := scrape(t, m)
			for _, w := range tt.want {
				if !strings.Contains(out, "\n"+w+"\n") {
					t.Errorf("no line %q in\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(out, "\n"+a) {
					t.Errorf("line starting %q should be absent", a)
				}
			}
		})
	}
}

// TestNames: Names lists the registered families, labelled ones without
// a series included, and each name a scrape shows.
func TestNames(t *testing.T) {
	now := time.Now
	none := func(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, nil }
	api := NewAPI([]string{"ecb"}, none, now)
	api.Request("/healthz", "GET", 200, time.Millisecond)
	worker, err := NewWorker(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		got    []string
		scrape string
		want   []string
	}{
		{"api", api.Names(), scrape(t, api), []string{"ces_http_request_duration_seconds", "ces_rate_db_fallbacks_total", "ces_conversions_total", "ces_dependency_up", "ces_quota_unchecked_total", "ces_rate_age_seconds"}},
		{"worker", worker.Names(), "", []string{"ces_rates_inserted_total", "ces_rates_quarantined_total", "ces_provider_health_status", "ces_provider_publications_missed", "ces_provider_newest_age_seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !slices.Contains(tt.got, w) {
					t.Errorf("Names() = %v, lacks %s", tt.got, w)
				}
			}
			for _, line := range strings.Split(tt.scrape, "\n") {
				if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
					name, _, _ = strings.Cut(name, " ")
					if !slices.Contains(tt.got, name) {
						t.Errorf("a scrape shows %s, Names() does not", name)
					}
				}
			}
		})
	}
}
