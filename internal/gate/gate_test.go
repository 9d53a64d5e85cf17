package gate_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/store"
)

var t0 = time.Date(2026, 5, 21, 14, 0, 0, 0, time.UTC)

func rate(id int64, provider, base, quote, value string, asOf time.Time) fx.Rate {
	return fx.Rate{ID: id, Provider: provider, Base: base, Quote: quote, Value: decimal.RequireFromString(value), AsOf: asOf}
}

func ptr(r fx.Rate) *fx.Rate { return &r }

func TestJudge(t *testing.T) {
	prev := rate(1, "ecb", "EUR", "JPY", "149.00", t0.Add(-24*time.Hour))
	other := rate(2, "oxr", "JPY", "EUR", "0.0067", t0)
	tests := []struct {
		name    string
		limit   string
		e       store.Evidence
		off     bool
		held    bool
		against string
	}{
		{name: "a zero band turns the gate off", limit: "0", off: true},
		{name: "a negative band turns the gate off", limit: "-0.1", off: true},
		{name: "a first publication passes", limit: "0.25", e: store.Evidence{Rate: rate(3, "ecb", "EUR", "JPY", "1.49", t0)}},
		{name: "a jump from the previous rate is held", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "ecb", "EUR", "JPY", "1.49", t0), Previous: &prev}, held: true, against: policy.AgainstPrevious},
		{name: "another provider's rate is weighed", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "ecb", "EUR", "JPY", "1.49", t0), Others: []fx.Rate{other}}, held: true, against: policy.AgainstProvider},
		{name: "a legal peg is not outvoted by a compiler", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "peg", "EUR", "XOF", "655.957", t0), Others: []fx.Rate{rate(4, "bdi", "EUR", "XOF", "1.0", t0)}}},
		{name: "but a change of peg is held", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "peg", "EUR", "XOF", "1311.914", t0), Previous: ptr(rate(4, "peg", "EUR", "XOF", "655.957", t0.Add(-24*time.Hour)))}, held: true, against: policy.AgainstPrevious},
		{name: "another provider's rate its own cadence has replaced is no reference", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "fbil", "EUR", "INR", "90.1", t0), Others: []fx.Rate{rate(4, "ecb", "EUR", "INR", "71.5", t0.Add(-98*time.Hour))}}},
		{name: "a weekly publisher's rate of five days ago still is", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "fbil", "EUR", "INR", "90.1", t0), Others: []fx.Rate{rate(4, "fred", "EUR", "INR", "71.5", t0.Add(-5*24*time.Hour))}}, held: true, against: policy.AgainstProvider},
		{name: "the band is the one configured", limit: "0.995",
			e: store.Evidence{Rate: rate(3, "ecb", "EUR", "JPY", "1.49", t0), Previous: &prev}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			judge := gate.Judge(decimal.RequireFromString(tt.limit))
			if (judge == nil) != tt.off {
				t.Fatalf("judge is nil: %v, want %v", judge == nil, tt.off)
			}
			if tt.off {
				return
			}
			f, held := judge(tt.e)
			if held != tt.held || f.Against != tt.against {
				t.Fatalf("held = %v against %q, want %v against %q", held, f.Against, tt.held, tt.against)
			}
			if held && f.Limit.String() != tt.limit {
				t.Errorf("limit = %s, want %s", f.Limit, tt.limit)
			}
		})
	}
}

func TestCascadeUsesEachHoldsOwnLimit(t *testing.T) {
	released := rate(1, "cbn", "EUR", "NGN", "2300", t0)
	q := func(id int64, value string, days int, limit string) store.Quarantine {
		return store.Quarantine{ID: id, Rate: rate(id, "cbn", "EUR", "NGN", value, t0.Add(time.Duration(days)*24*time.Hour)),
			JumpLimit: decimal.RequireFromString(limit), Status: store.QuarantineHeld}
	}
	tests := []struct {
		name  string
		later []store.Quarantine
		want  int
	}{
		{name: "none", want: 0},
		{name: "near ones follow", later: []store.Quarantine{q(2, "2310", 1, "0.25"), q(3, "2320", 2, "0.25")}, want: 2},
		{name: "a narrower band held with stops it", later: []store.Quarantine{q(2, "2310", 1, "0.25"), q(3, "2800", 2, "0.1")}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.Cascade(released, tt.later); got != tt.want {
				t.Errorf("Cascade = %d, want %d", got, tt.want)
			}
		})
	}
}
