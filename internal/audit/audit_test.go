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

// TestCanonicalStale pins the texts of the versions that follow the API
// key: v4 and v5 (quoted) without a stale flag, as receipts recorded
// before it keep hashing, and v6, which records it with or without a quote.
func TestCanonicalStale(t *testing.T) {
	head := "id=01a220e7-3294-737a-9e2e-3adc823629d3\ncreated_at=2026-05-21T17:00:00Z\namount=500\n" +
		"from_currency=USD\nto_currency=NGN\nmid_rate=1371.8079\nmargin=0\napplied_rate=1371.8079\nconverted_amount=685903.95\n" +
		"rounding=half_even\nminor_units=2\nrate_precision=20\nprovider=cbn\nrule=direct\nas_of=2026-05-21T16:00:00Z\nleg1=102\n" +
		"request_id=req-1\nidempotency_key=\nrequest_sha256=ab\nclient_address=127.0.0.1\napi_key_id=k1\n"
	tests := []struct {
		name  string
		quote string
		stale *bool
		want  string
	}{
		{"v4 without a quote or stale flag", "", nil, "ces-receipt=v4\n" + head},
		{"v5 with a quote, without a stale flag", "q1", nil, "ces-receipt=v5\n" + head + "quote_id=q1\n"},
		{"v6 fresh without a quote", "", fx.Flag(false), "ces-receipt=v6\n" + head + "stale=false\n"},
		{"v6 stale without a quote", "", fx.Flag(true), "ces-receipt=v6\n" + head + "stale=true\n"},
		{"v6 stale with a quote", "q1", fx.Flag(true), "ces-receipt=v6\n" + head + "quote_id=q1\nstale=true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := receipt("direct+")
			r.APIKeyID, r.QuoteID, r.Stale = "k1", tt.quote, tt.stale
			if got := Canonical(r); got != tt.want {
				t.Fatalf("Canonical =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	fresh, stale := receipt("direct+"), receipt("direct+")
	fresh.APIKeyID, stale.APIKeyID, fresh.Stale, stale.Stale = "k1", "k1", fx.Flag(false), fx.Flag(true)
	if ReceiptHash(fresh) == ReceiptHash(stale) {
		t.Fatal("the stale flag is not covered by the hash")
	}
}

// TestQuoteCanonical pins the hashed text of a quote: v1 without a stale
// flag (quotes recorded before it), v2 with it.
func TestQuoteCanonical(t *testing.T) {
	at := time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)
	body := "id=q1\napi_key_id=k1\ncreated_at=2022-09-01T04:00:00Z\nexpires_at=2022-09-01T04:00:30Z\namount=250\n" +
		"from_currency=USD\nto_currency=EUR\nmid_rate=0.99765\nmargin=0.005\napplied_rate=0.99266175\nconverted_amount=248.17\n" +
		"rounding=half_even\nminor_units=2\nrate_precision=20\nprovider=ecb\nrule=inverse\nas_of=2022-08-31T14:00:00Z\nleg1=45\n"
	for _, tt := range []struct {
		name  string
		stale *bool
		want  string
	}{
		{"v1 without a stale flag", nil, "ces-quote=v1\n" + body},
		{"v2 fresh", fx.Flag(false), "ces-quote=v2\n" + body + "stale=false\n"},
		{"v2 stale", fx.Flag(true), "ces-quote=v2\n" + body + "stale=true\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := fx.LockedQuote{
				ID: "q1", APIKeyID: "k1", CreatedAt: at, ExpiresAt: at.Add(30 * time.Second),
				Pricing: fx.Pricing{
					Amount: decimal.RequireFromString("250.00"), From: "USD", To: "EUR",
					MidRate: decimal.RequireFromString("0.997650"), Margin: decimal.RequireFromString("0.005"),
					AppliedRate: decimal.RequireFromString("0.9926617500"), ConvertedAmount: decimal.RequireFromString("248.17"),
					Rounding: fx.Rounding, MinorUnits: 2, RatePrecision: 20, Provider: "ecb", Rule: "inverse",
					AsOf: at.Add(-14 * time.Hour), Legs: []fx.Rate{{ID: 45}}, Stale: tt.stale,
				},
			}
			if got := QuoteCanonical(q); got != tt.want {
				t.Fatalf("QuoteCanonical =\n%s\nwant\n%s", got, tt.want)
			}
		})
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
			Legs: []fx.Rate{{ID: 45}}, Stale: fx.Flag(true),
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
		{"the quote's stale flag", func(r *fx.Receipt) { r.Stale = fx.Flag(true) }, ""},
		{"another stale flag", func(r *fx.Receipt) { r.Stale = fx.Flag(false) }, "says stale=false but quote q1 says stale=true"},
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

// TestAppendDecimal: the canonical texts write decimals without
// decimal.String, and must write exactly what it writes, or every stored
// hash stops matching.
func TestAppendDecimal(t *testing.T) {
	cases := []string{
		"0", "0.00", "-0.000", "1", "10", "100.000", "1.0540", "0.5", "0.05", "0.000001230", "-0.000001230",
		"1371.8079", "685903.95", "-685903.95", "123456789012345678", "-123456789012345678",
		"0.123456789012345678", "1234567890123456789", "12345678901234567890.123", "-99999999999999999999",
		"0.00000000000000000001", "1e5", "-2.5e3", "1.20e-7", "9223372036854775807", "-9223372036854775808",
	}
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			d := decimal.RequireFromString(c)
			if got, want := string(appendDecimal([]byte("x="), d)), "x="+d.String(); got != want {
				t.Fatalf("appendDecimal = %q, decimal.String = %q", got, want)
			}
		})
	}
	t.Run("coefficients and exponents", func(t *testing.T) {
		for _, c := range []int64{0, 1, -1, 7, 10, -10, 1050, 123456789, -100000, 999999999999999999, -999999999999999999} {
			for exp := int32(-25); exp <= 5; exp++ {
				d := decimal.New(c, exp)
				if got := string(appendDecimal(nil, d)); got != d.String() {
					t.Fatalf("New(%d, %d): appendDecimal = %q, decimal.String = %q", c, exp, got, d.String())
				}
			}
		}
	})
}

// BenchmarkReceiptHash is what verify-audit pays per row for the
// receipt's canonical text and hash.
func BenchmarkReceiptHash(b *testing.B) {
	r := receipt("direct+")
	b.ReportAllocs()
	for b.Loop() {
		ReceiptHash(r)
	}
}
