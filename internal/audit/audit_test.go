package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// receipt is a USD→NGN receipt with rule; "direct+" is the rule direct
// with the minor units and rate precision recorded (v3).
func receipt(rule string) fx.Receipt {
	at := time.Date(2026, 5, 21, 16, 0, 0, 0, time.UTC)
	var minor, precision int
	if r, ok := strings.CutSuffix(rule, "+"); ok {
		rule, minor, precision = r, 2, 20
	}
	return fx.Receipt{
		ID: "01a220e7-3294-737a-9e2e-3adc823629d3", CreatedAt: at.Add(time.Hour), RequestID: "req-1",
		RequestSHA256: "ab", ClientAddress: "127.0.0.1",
		Pricing: fx.Pricing{
			MinorUnits: minor, RatePrecision: precision, Amount: decimal.RequireFromString("500.00"), From: "USD",
			To: "NGN", MidRate: decimal.RequireFromString("1371.8079"), Margin: decimal.Zero,
			AppliedRate: decimal.RequireFromString("1371.8079"), ConvertedAmount: decimal.RequireFromString("685903.95"),
			Rounding: fx.Rounding, Provider: "cbn", Rule: rule, AsOf: at, Legs: []fx.Rate{{ID: 102}},
		},
	}
}

// TestCanonical pins the hashed text: a receipt recorded before pricing
// rules existed (no rule) must keep hashing exactly as it did (v1).
func TestCanonical(t *testing.T) {
	tests := []struct {
		name, rule, want string
	}{
		{"v1 without a rule", "", "ces-receipt=v1\nid=01a220e7-3294-737a-9e2e-3adc823629d3\ncreated_at=2026-05-21T17:00:00Z\namount=500\n" +
			"from_currency=USD\nto_currency=NGN\nmid_rate=1371.8079\nmargin=0\napplied_rate=1371.8079\nconverted_amount=685903.95\n" +
			"rounding=half_even\nprovider=cbn\nas_of=2026-05-21T16:00:00Z\nleg1=102\nrequest_id=req-1\nidempotency_key=\n" +
			"request_sha256=ab\nclient_address=127.0.0.1\n"},
		{"v2 names the rule", "direct", "ces-receipt=v2\nid=01a220e7-3294-737a-9e2e-3adc823629d3\ncreated_at=2026-05-21T17:00:00Z\namount=500\n" +
			"from_currency=USD\nto_currency=NGN\nmid_rate=1371.8079\nmargin=0\napplied_rate=1371.8079\nconverted_amount=685903.95\n" +
			"rounding=half_even\nprovider=cbn\nrule=direct\nas_of=2026-05-21T16:00:00Z\nleg1=102\nrequest_id=req-1\nidempotency_key=\n" +
			"request_sha256=ab\nclient_address=127.0.0.1\n"},
		{"v3 records minor units and rate precision", "direct+", "ces-receipt=v3\nid=01a220e7-3294-737a-9e2e-3adc823629d3\ncreated_at=2026-05-21T17:00:00Z\namount=500\n" +
			"from_currency=USD\nto_currency=NGN\nmid_rate=1371.8079\nmargin=0\napplied_rate=1371.8079\nconverted_amount=685903.95\n" +
			"rounding=half_even\nminor_units=2\nrate_precision=20\nprovider=cbn\nrule=direct\nas_of=2026-05-21T16:00:00Z\nleg1=102\nrequest_id=req-1\nidempotency_key=\n" +
			"request_sha256=ab\nclient_address=127.0.0.1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Canonical(receipt(tt.rule)); got != tt.want {
				t.Fatalf("Canonical =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if ReceiptHash(receipt("")) == ReceiptHash(receipt("direct")) {
		t.Fatal("the rule is not covered by the hash")
	}
	v3, other := receipt("direct+"), receipt("direct+")
	other.MinorUnits = 3
	if ReceiptHash(v3) == ReceiptHash(other) {
		t.Fatal("the minor units are not covered by the hash")
	}
}

func TestSealChains(t *testing.T) {
	s := Seal{CreatedAt: time.Unix(0, 0), XminFrom: 1, XminTo: 5, RowCount: 2, FirstSeq: 1, LastSeq: 2,
		RowsSHA256: RowsDigest([]SealedRow{{Seq: 1, Hash: "a"}, {Seq: 2, Hash: "b"}}), PrevSealHash: GenesisSealHash}
	other := s
	other.PrevSealHash = s.ComputeHash()
	if s.ComputeHash() == other.ComputeHash() {
		t.Fatal("a seal's hash ignores its predecessor")
	}
	var d Digest
	d.Add(SealedRow{Seq: 1, Hash: "a"})
	d.Add(SealedRow{Seq: 2, Hash: "b"})
	if d.Sum() != s.RowsSHA256 || d.Count != 2 || d.First != 1 || d.Last != 2 {
		t.Fatalf("incremental digest %s (%d rows) differs from RowsDigest %s", d.Sum(), d.Count, s.RowsSHA256)
	}
}

func TestCheckQuoted(t *testing.T) {
	at := time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)
	q := fx.LockedQuote{
		ID: "q1", APIKeyID: "k1", CreatedAt: at, ExpiresAt: at.Add(30 * time.Second),
		Pricing: fx.Pricing{
			Amount: decimal.RequireFromString("250"), From: "USD", To: "EUR",
			MidRate: decimal.RequireFromString("0.997656"), Margin: decimal.RequireFromString("0.005"),
			AppliedRate: decimal.RequireFromString("0.99266772"), ConvertedAmount: decimal.RequireFromString("248.17"),
			Legs: []fx.Rate{{ID: 45}},
		},
	}
	r := fx.Receipt{
		APIKeyID: "k1", QuoteID: "q1", CreatedAt: at.Add(10 * time.Second),
		Pricing: fx.Pricing{
			Amount: q.Amount, From: q.From, To: q.To, MidRate: q.MidRate, Margin: q.Margin, AppliedRate: q.AppliedRate,
			ConvertedAmount: q.ConvertedAmount, Legs: []fx.Rate{{ID: 45}},
		},
	}
	for _, tt := range []struct {
		name string
		edit func(*fx.Receipt)
		want string
	}{
		{"as quoted", func(*fx.Receipt) {}, ""},
		{"another client", func(r *fx.Receipt) { r.APIKeyID = "k2" }, "made for another API key"},
		{"after expiry", func(r *fx.Receipt) { r.CreatedAt = at.Add(30 * time.Second) }, "after it expired"},
		{"another amount", func(r *fx.Receipt) { r.ConvertedAmount = decimal.RequireFromString("248.18") }, "figures are not those"},
		{"another leg", func(r *fx.Receipt) { r.Legs = []fx.Rate{{ID: 46}} }, "legs are not those"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := r
			tt.edit(&got)
			err := CheckQuoted(got, q)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("CheckQuoted = %v, want %q", err, tt.want)
			}
		})
	}
	if QuoteHash(q) == QuoteHash(fx.LockedQuote{}) || !strings.Contains(QuoteCanonical(q), "api_key_id=k1\n") {
		t.Fatal("the quote's hash does not cover its content")
	}
}
