package policy

import (
	"testing"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// issuers stands in for the catalogue: the CBK issues KES, the ECB EUR,
// FRED's Federal Reserve USD.
func issuers(provider string) string {
	return map[string]string{"cbk": "KES", "ecb": "EUR", "fred": "USD"}[provider]
}

func TestCheckConsensus(t *testing.T) {
	usdKES := func(id int64, p, v string) fx.Rate { return rate(id, p, "USD", "KES", v, t0) }
	eurKES := func(id int64, p, v string) fx.Rate { return rate(id, p, "EUR", "KES", v, t0) }
	eurUSD := func(id int64, p, v string) fx.Rate { return rate(id, p, "EUR", "USD", v, t0) }
	// Four compilers agree that 1 USD is about 129 KES.
	four := []fx.Rate{usdKES(11, "a", "129.0"), usdKES(12, "b", "129.1"), usdKES(13, "c", "128.9"), usdKES(14, "d", "129.2")}
	tests := []struct {
		name    string
		in      fx.Rate
		day     []fx.Rate
		c       Consensus
		held    bool
		against string
		median  string
		mad     string
		n       int
	}{
		{name: "an outlier moved 30% is held", in: usdKES(1, "e", "167.7"), day: four, held: true, against: AgainstConsensus,
			median: "0.0077489356847345", mad: "0.0000059999520004"},
		{name: "a value near the others is kept", in: usdKES(1, "e", "129.3"), day: four},
		{name: "fewer than the minimum of other publishers: no consensus", in: usdKES(1, "e", "167.7"), day: four[:2]},
		{name: "a lower minimum lets two judge", in: usdKES(1, "e", "167.7"), day: four[:2],
			c: Consensus{MinOthers: 2, MADs: decimal.NewFromInt(10), Band: decimal.RequireFromString("0.05")}, held: true, against: AgainstConsensus},
		{name: "MAD zero: the band floor keeps a 0.8% difference", in: usdKES(1, "e", "130"),
			day: []fx.Rate{usdKES(11, "a", "129"), usdKES(12, "b", "129"), usdKES(13, "c", "129")}},
		{name: "MAD zero: beyond the band floor is held", in: usdKES(1, "e", "140"),
			day: []fx.Rate{usdKES(11, "a", "129"), usdKES(12, "b", "129"), usdKES(13, "c", "129")}, held: true, against: AgainstConsensus, mad: "0"},
		{name: "a wide spread widens the limit beyond the band", in: usdKES(1, "e", "100"),
			day: []fx.Rate{usdKES(11, "a", "80"), usdKES(12, "b", "129"), usdKES(13, "c", "160"), usdKES(14, "d", "200")}},
		{name: "mixed bases: a EUR quoter votes through its own EUR/USD", in: usdKES(1, "e", "167.7"),
			day:  []fx.Rate{usdKES(11, "a", "129.0"), usdKES(12, "b", "129.1"), eurKES(13, "c", "151.0"), eurUSD(14, "c", "1.17")},
			held: true, against: AgainstConsensus},
		{name: "mixed bases: a EUR quoter without EUR/USD does not vote", in: usdKES(1, "e", "167.7"),
			day: []fx.Rate{usdKES(11, "a", "129.0"), usdKES(12, "b", "129.1"), eurKES(13, "c", "151.0")}},
		{name: "the incoming row's own EUR/USD puts it on USD", in: eurKES(1, "e", "196.3"),
			day: append([]fx.Rate{eurUSD(2, "e", "1.17")}, four...), held: true, against: AgainstConsensus},
		{name: "a row it cannot put on a common base is not judged", in: eurKES(1, "e", "196.3"), day: four},
		{name: "the issuer is never held by consensus about its currency", in: usdKES(1, "cbk", "167.7"), day: four},
		{name: "a compiler is held against the issuer, not the median", in: usdKES(1, "e", "129.0"),
			day: append([]fx.Rate{usdKES(2, "cbk", "167.7")}, four...), held: true, against: AgainstIssuer},
		{name: "a compiler near the issuer is kept though the median disagrees", in: usdKES(1, "e", "167.0"),
			day: append([]fx.Rate{usdKES(2, "cbk", "167.7")}, four...)},
		{name: "an issuer is not judged on a base that is its own currency", in: rate(1, "fred", "USD", "JPY", "200", t0),
			day: []fx.Rate{rate(11, "a", "USD", "JPY", "150", t0), rate(12, "b", "USD", "JPY", "150", t0), rate(13, "c", "USD", "JPY", "150", t0)}},
		{name: "turned off", in: usdKES(1, "e", "167.7"), day: four, c: Consensus{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if tt.name != "turned off" && c.Off() {
				c = DefaultConsensus
			}
			f, held := CheckConsensus(tt.in, tt.day, issuers, c)
			if held != tt.held {
				t.Fatalf("held = %v (%+v), want %v", held, f, tt.held)
			}
			if !held {
				return
			}
			if f.Against != tt.against {
				t.Errorf("against %s, want %s", f.Against, tt.against)
			}
			if tt.median != "" && f.Median.String() != tt.median {
				t.Errorf("median %s, want %s", f.Median, tt.median)
			}
			if tt.mad != "" && !f.MAD.Equal(decimal.RequireFromString(tt.mad)) {
				t.Errorf("MAD %s, want %s", f.MAD, tt.mad)
			}
			if f.Currency != "KES" || f.On != "USD" || !f.Change.GreaterThan(f.Limit) {
				t.Errorf("finding %+v: want KES on USD with a change above its limit", f)
			}
		})
	}
}

func TestLaggingBehind(t *testing.T) {
	usdKES := func(id int64, p, v string) fx.Rate { return rate(id, p, "USD", "KES", v, t0) }
	eurUSD := func(id int64, p, v string) fx.Rate { return rate(id, p, "EUR", "USD", v, t0) }
	// The compilers stored 129; then the CBK devalues to 167.7.
	day := []fx.Rate{usdKES(11, "a", "129.0"), usdKES(12, "b", "129.1"), usdKES(13, "c", "166.9"),
		rate(14, "d", "EUR", "KES", "151.0", t0), rate(15, "d", "EUR", "USD", "1.17", t0)}
	got := LaggingBehind(usdKES(1, "cbk", "167.7"), day, issuers, DefaultConsensus)
	var ids []int64
	for _, l := range got {
		ids = append(ids, l.Rate.ID)
		if l.Finding.Against != AgainstIssuer || l.Finding.Reference.ID != 1 || l.Finding.Currency != "KES" || l.Finding.On != "USD" {
			t.Errorf("finding %+v: want KES on USD against the issuer's row 1", l.Finding)
		}
	}
	if len(ids) != 3 || ids[0] != 11 || ids[1] != 12 || ids[2] != 14 {
		t.Fatalf("lagging rows %v, want 11, 12 and 14 (c agrees with the issuer; d through its own EUR/USD)", ids)
	}
	// FRED's Federal Reserve issues the dollar: its USD/KES is held only
	// when it also values KES on EUR.
	fredDay := []fx.Rate{usdKES(21, "fred", "129.0"), usdKES(22, "a", "129.0")}
	if got := LaggingBehind(usdKES(1, "cbk", "167.7"), fredDay, issuers, DefaultConsensus); len(got) != 1 || got[0].Rate.ID != 22 {
		t.Errorf("lagging %+v, want a's row alone (FRED's is its own dollar's)", got)
	}
	withEUR := append(fredDay, eurUSD(23, "fred", "1.17"), rate(2, "cbk", "EUR", "KES", "196.2", t0))
	if got := LaggingBehind(usdKES(1, "cbk", "167.7"), withEUR, issuers, DefaultConsensus); len(got) != 2 || got[0].Rate.ID != 22 || got[1].Rate.ID != 21 || got[1].Finding.On != "EUR" {
		t.Errorf("lagging %+v, want a's on USD and FRED's on EUR", got)
	}
	if got := LaggingBehind(usdKES(1, "e", "167.7"), day, issuers, DefaultConsensus); len(got) != 0 {
		t.Errorf("a compiler holds %d rows after the fact; only an issuer does", len(got))
	}
	if got := LaggingBehind(usdKES(1, "cbk", "129.5"), day[:2], issuers, DefaultConsensus); len(got) != 0 {
		t.Errorf("an issuer that agrees holds %d rows", len(got))
	}
}

func TestMedian(t *testing.T) {
	d := decimal.RequireFromString
	tests := []struct {
		name string
		in   []decimal.Decimal
		want string
	}{
		{"none", nil, "0"},
		{"odd", []decimal.Decimal{d("3"), d("1"), d("2")}, "2"},
		{"even: the mean of the middle two, exactly", []decimal.Decimal{d("4"), d("1"), d("2"), d("3.5")}, "2.75"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Median(tt.in); !got.Equal(d(tt.want)) {
				t.Errorf("Median = %s, want %s", got, tt.want)
			}
		})
	}
}
