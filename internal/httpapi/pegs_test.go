package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"ces/internal/provider/ecb"
	"ces/internal/provider/peg"
)

// pegWorld serves the ECB's recorded history (to 2017-03-03) with the
// legal pegs as the peg adapter stores them, on the ECB's last day.
func pegWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, options{providers: []string{ecb.Name, peg.Name}, now: time.Date(2017, 3, 3, 17, 0, 0, 0, time.UTC)})
	w.ingest(t, ecbHistory(t)...)
	sets, err := peg.NewClient("", nil).Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// newest first, as ingest expects
	for i, j := 0, len(sets)-1; i < j; i, j = i+1, j-1 {
		sets[i], sets[j] = sets[j], sets[i]
	}
	w.ingest(t, sets...)
	return w
}

type pegLeg struct {
	ID        int64  `json:"id"`
	Provider  string `json:"provider"`
	Base      string `json:"base"`
	Quote     string `json:"quote"`
	Rate      string `json:"rate"`
	AsOf      string `json:"as_of"`
	Authority string `json:"authority"`
}

func TestPegsPriceTheirCurrencies(t *testing.T) {
	w := pegWorld(t)
	const bceao = "Banque Centrale des États de l'Afrique de l'Ouest"
	tests := []struct {
		name, query          string
		rule, provider, rate string
		legs                 []pegLeg
	}{
		{name: "a peg against its anchor keeps the legal digits", query: "from=EUR&to=XOF", rule: "peg", provider: "peg", rate: "655.957",
			legs: []pegLeg{{Provider: "peg", Base: "EUR", Quote: "XOF", Rate: "655.957", AsOf: "1999-01-01T00:00:00Z", Authority: bceao}}},
		// 655.957 / 1.0565 (the ECB's EUR/USD of 2017-03-03), 20 significant
		// digits; dated by the ECB's leg, since the peg holds every day
		{name: "crossed through the anchor to the rest", query: "from=USD&to=XOF", rule: "peg", provider: "ecb+peg", rate: "620.87742546142924752",
			legs: []pegLeg{{Provider: "ecb", Base: "EUR", Quote: "USD", Rate: "1.0565", AsOf: "2017-03-03T15:00:00Z"}, {Provider: "peg", Base: "EUR", Quote: "XOF", Rate: "655.957", AsOf: "1999-01-01T00:00:00Z", Authority: bceao}}},
		{name: "a USD peg", query: "from=USD&to=SAR", rule: "peg", provider: "peg", rate: "3.75",
			legs: []pegLeg{{Provider: "peg", Base: "USD", Quote: "SAR", Rate: "3.75", AsOf: "1986-06-01T00:00:00Z", Authority: "Saudi Central Bank"}}},
		{name: "pinned to the pegs", query: "from=XOF&to=BAM&provider=peg", rule: "peg", provider: "peg", rate: "0.0029816436138344434163",
			legs: []pegLeg{{Provider: "peg", Base: "EUR", Quote: "XOF", Rate: "655.957", AsOf: "1999-01-01T00:00:00Z", Authority: bceao}, {Provider: "peg", Base: "EUR", Quote: "BAM", Rate: "1.95583", AsOf: "1997-08-11T00:00:00Z", Authority: "Central Bank of Bosnia and Herzegovina"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.get(t, "/api/v1/rates?"+tt.query)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var body struct {
				Rate, Provider, Rule string
				AsOf                 string `json:"as_of"`
				Stale                bool
				Legs                 []pegLeg
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Rule != tt.rule || body.Provider != tt.provider || body.Rate != tt.rate || body.Stale {
				t.Fatalf("rule/provider/rate/stale = %s/%s/%s/%v, want %s/%s/%s/false: %s", body.Rule, body.Provider, body.Rate, body.Stale, tt.rule, tt.provider, tt.rate, r.Body)
			}
			if want := tt.legs[0].AsOf; body.AsOf != want {
				t.Errorf("as_of = %s, want %s (the published leg's, or the peg's alone)", body.AsOf, want)
			}
			if len(body.Legs) != len(tt.legs) {
				t.Fatalf("legs = %+v, want %+v", body.Legs, tt.legs)
			}
			for i, l := range body.Legs {
				l.ID = 0
				if l != tt.legs[i] {
					t.Errorf("leg %d = %+v, want %+v", i, l, tt.legs[i])
				}
			}
		})
	}
	// A conversion through a peg 18 years old is not too old to convert:
	// the peg holds until its authority changes it. Its receipt's legs are
	// the stored rows, the peg's among them.
	r := w.post(t, "/api/v1/convert", `{"amount": "100.00", "from_currency": "USD", "to_currency": "XOF"}`)
	if r.Status != 201 {
		t.Fatalf("convert USD→XOF: %d %s", r.Status, r.Body)
	}
	rc := decodeReceipt(t, r)
	if rc.Provider != "ecb+peg" || len(rc.Legs) != 2 || rc.Legs[1].Quote != "XOF" || rc.Legs[1].Rate != "655.957" {
		t.Fatalf("receipt = %+v", rc)
	}
}
