package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
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
