package gate_test

import (
	"fmt"
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
			e: store.Evidence{Rate: rate(3, "imf", "EUR", "JPY", "1.49", t0), Others: []fx.Rate{other}}, held: true, against: policy.AgainstProvider},
		{name: "but not against the issuer of a currency of the pair", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "ecb", "EUR", "JPY", "1.49", t0), Others: []fx.Rate{other}}},
		{name: "a legal peg is not outvoted by a compiler", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "peg", "EUR", "XOF", "655.957", t0), Others: []fx.Rate{rate(4, "bdi", "EUR", "XOF", "1.0", t0)}}},
		{name: "but a change of peg is held", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "peg", "EUR", "XOF", "1311.914", t0), Previous: ptr(rate(4, "peg", "EUR", "XOF", "655.957", t0.Add(-24*time.Hour)))}, held: true, against: policy.AgainstPrevious},
		{name: "another provider's rate its own cadence has replaced is no reference", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "imf", "EUR", "INR", "90.1", t0), Others: []fx.Rate{rate(4, "ecb", "EUR", "INR", "71.5", t0.Add(-98*time.Hour))}}},
		{name: "a weekly publisher's rate of five days ago still is", limit: "0.25",
			e: store.Evidence{Rate: rate(3, "imf", "EUR", "INR", "90.1", t0), Others: []fx.Rate{rate(4, "fred", "EUR", "INR", "71.5", t0.Add(-5*24*time.Hour))}}, held: true, against: policy.AgainstProvider},
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
			v := judge(tt.e)
			f, held := v.Finding, v.Held
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

// day is six publishers' rates of KES on t0's date: the CBK (its issuer)
// and five compilers quoting it against USD, or against EUR with their
// own EUR/USD.
func day(cbk string) []fx.Rate {
	return []fx.Rate{
		rate(10, "cbk", "USD", "KES", cbk, t0),
		rate(11, "imf", "USD", "KES", "129.0", t0),
		rate(12, "fred", "USD", "KES", "129.1", t0),
		rate(13, "bdi", "USD", "KES", "128.9", t0),
		rate(14, "oxr", "USD", "KES", "129.2", t0),
		rate(15, "ecb", "EUR", "KES", "151.0", t0), rate(16, "ecb", "EUR", "USD", "1.17", t0),
	}
}

func TestJudgeConsensus(t *testing.T) {
	without := func(rows []fx.Rate, provider string) []fx.Rate {
		var out []fx.Rate
		for _, r := range rows {
			if r.Provider != provider {
				out = append(out, r)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		o       gate.Options
		in      fx.Rate
		day     []fx.Rate
		others  []fx.Rate
		held    string
		lagging []int64
	}{
		{name: "an outlier is held by the others' median", in: rate(1, "bdi", "USD", "KES", "167.7", t0), day: without(day("129.1"), "cbk"), held: policy.AgainstConsensus},
		{name: "a compiler is held against the issuer", in: rate(1, "bdi", "USD", "KES", "129.1", t0), day: day("167.7"), held: policy.AgainstIssuer},
		{name: "the issuer is never held by the others and holds those lagging", in: rate(1, "cbk", "USD", "KES", "167.7", t0), day: without(day("0"), "cbk"),
			lagging: []int64{13, 15, 11, 14}}, // FRED issues the dollar: its USD/KES is its own call
		{name: "an issuer does not hold a legal peg", in: rate(1, "cbk", "USD", "KES", "167.7", t0),
			day: []fx.Rate{rate(11, "peg", "USD", "KES", "129", t0), rate(12, "imf", "USD", "KES", "129.0", t0)}, lagging: []int64{12}},
		{name: "publishers not configured are not weighed", o: gate.Options{Providers: []string{"bdi", "imf", "fred"}},
			in: rate(1, "bdi", "USD", "KES", "167.7", t0), day: without(day("129.1"), "cbk")},
		{name: "an issuer held by its own previous rate holds nobody", in: rate(1, "cbk", "USD", "KES", "167.7", t0), day: without(day("0"), "cbk"),
			others: nil, held: policy.AgainstPrevious},
		{name: "GATE_REFERENCE_MAX_AGE ignores an older reference", o: gate.Options{MaxAge: time.Hour},
			in: rate(1, "imf", "EUR", "INR", "90.1", t0), others: []fx.Rate{rate(4, "fred", "EUR", "INR", "71.5", t0.Add(-2*time.Hour))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.JumpLimit, o.Consensus = decimal.RequireFromString("0.25"), policy.DefaultConsensus
			e := store.Evidence{Rate: tt.in, Others: tt.others, SameDay: append([]fx.Rate{tt.in}, tt.day...)}
			if tt.held == policy.AgainstPrevious {
				e.Previous = ptr(rate(2, tt.in.Provider, tt.in.Base, tt.in.Quote, "129", t0.Add(-24*time.Hour)))
			}
			v := o.Judge()(e)
			if got := v.Finding.Against; v.Held != (tt.held != "") || got != tt.held {
				t.Fatalf("verdict %+v, want held against %q", v, tt.held)
			}
			var ids []int64
			for _, l := range v.Lagging {
				ids = append(ids, l.Rate.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.lagging) {
				t.Errorf("lagging %v, want %v", ids, tt.lagging)
			}
		})
	}
}
