package fx

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Expected quotients were computed independently with Python's decimal
// module (precision 20, ROUND_HALF_EVEN).
func TestDivideRates(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"exact", "10", "4", "2.5"},
		{"one third", "1", "3", "0.33333333333333333333"},
		{"two thirds rounds up", "2", "3", "0.66666666666666666667"},
		{"large quotient", "15994.24", "1.3547", "11806.481139735734849"},
		{"tiny quotient keeps significant digits", "1", "15994.24", "0.000062522508102917050138"},
		{"inverse of EURUSD 2014-06-10", "1", "1.3547", "0.73817081272606481140"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DivideRates(d(tt.a), d(tt.b))
			if !got.Equal(d(tt.want)) {
				t.Fatalf("DivideRates(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestDivideRatesHalfEvenTies(t *testing.T) {
	// 1 followed by 20 significant digits then an exact half: the 21st digit
	// is 5 with nothing after it, so the tie goes to the even neighbour.
	tests := []struct {
		name string
		a    string
		want string
	}{
		{"tie rounds down to even", "1.00000000000000000005", "1.0000000000000000000"},
		{"tie rounds up to even", "1.00000000000000000015", "1.0000000000000000002"},
		{"above tie rounds up", "1.000000000000000000050001", "1.0000000000000000001"},
		{"below tie rounds down", "1.000000000000000000049999", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DivideRates(d(tt.a), d("1"))
			if !got.Equal(d(tt.want)) {
				t.Fatalf("DivideRates(%s, 1) = %s, want %s", tt.a, got, tt.want)
			}
		})
	}
}

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
		minor   int
	}{
		{"USD", false, 2},
		{"JPY", false, 0},
		{"KWD", false, 3},
		{"CLF", false, 4},
		{"XAU", false, -1},
		{"LTL", false, 2},
		{"usd", false, 2},
		{"uSd", false, 2},
		{"US", true, 0},
		{"USDT", true, 0},
		{"BTC", true, 0},
		{"CNH", true, 0},
		{"U$D", true, 0},
		{"", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCurrency(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidCurrency) {
					t.Fatalf("ParseCurrency(%q) error = %v, want ErrInvalidCurrency", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCurrency(%q): %v", tt.in, err)
			}
			if c.MinorUnits != tt.minor {
				t.Fatalf("%s minor units = %d, want %d", tt.in, c.MinorUnits, tt.minor)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	usd, _ := LookupCurrency("USD")
	jpy, _ := LookupCurrency("JPY")
	kwd, _ := LookupCurrency("KWD")
	xau, _ := LookupCurrency("XAU")
	tests := []struct {
		name    string
		text    string
		cur     Currency
		want    string
		wantErr error
	}{
		{"plain", "500.00", usd, "500", nil},
		{"integer", "500", usd, "500", nil},
		{"one decimal", "0.5", usd, "0.5", nil},
		{"trailing zeros beyond minor units are exact", "1.2300", usd, "1.23", nil},
		{"three decimals in KWD", "1.234", kwd, "1.234", nil},
		{"18 integer digits", "999999999999999999.99", usd, "999999999999999999.99", nil},
		{"leading zeros do not count", "000000000000000000001", usd, "1", nil},
		{"zero", "0", usd, "", ErrInvalidAmount},
		{"zero with decimals", "0.00", usd, "", ErrInvalidAmount},
		{"negative", "-1", usd, "", ErrInvalidAmount},
		{"plus sign", "+1", usd, "", ErrInvalidAmount},
		{"exponent", "1e3", usd, "", ErrInvalidAmount},
		{"upper exponent", "1E3", usd, "", ErrInvalidAmount},
		{"NaN", "NaN", usd, "", ErrInvalidAmount},
		{"Infinity", "Infinity", usd, "", ErrInvalidAmount},
		{"too many decimals", "1.001", usd, "", ErrInvalidAmount},
		{"decimals in JPY", "1.5", jpy, "", ErrInvalidAmount},
		{"19 integer digits", "1000000000000000000", usd, "", ErrInvalidAmount},
		{"bare dot", ".5", usd, "", ErrInvalidAmount},
		{"trailing dot", "5.", usd, "", ErrInvalidAmount},
		{"two dots", "1.2.3", usd, "", ErrInvalidAmount},
		{"spaces", " 1", usd, "", ErrInvalidAmount},
		{"empty", "", usd, "", ErrInvalidAmount},
		{"no minor unit", "1", xau, "", ErrInvalidCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAmount(tt.text, tt.cur)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseAmount(%q) error = %v, want %v", tt.text, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tt.text, err)
			}
			if !got.Equal(d(tt.want)) {
				t.Fatalf("ParseAmount(%q) = %s, want %s", tt.text, got, tt.want)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	cur := func(code string) Currency { c, _ := LookupCurrency(code); return c }
	tests := []struct {
		name          string
		amount, mid   string
		margin        string
		to            string
		wantApplied   string
		wantConverted string
	}{
		{"no margin USD", "500.00", "1530.25", "0", "NGN", "1530.25", "765125.00"},
		{"margin 0.5%", "500.00", "1530.25", "0.005", "NGN", "1522.59875", "761299.38"},
		{"JPY rounds to units, tie to even down", "1", "2.5", "0", "JPY", "2.5", "2"},
		{"JPY tie to even up", "1", "3.5", "0", "JPY", "3.5", "4"},
		{"USD tie to even down", "1", "0.125", "0", "USD", "0.125", "0.12"},
		{"USD tie to even up", "1", "0.135", "0", "USD", "0.135", "0.14"},
		{"KWD three decimals tie", "1", "0.0005", "0", "KWD", "0.0005", "0"},
		{"KWD three decimals", "1", "0.30655", "0", "KWD", "0.30655", "0.307"},
		{"CLF four decimals", "1", "0.123456", "0", "CLF", "0.123456", "0.1235"},
		{"very large amount", "999999999999999999.99", "1530.25", "0.005", "NGN", "1522.59875", "1522598749999999999984.77"},
		{"very small amount", "0.01", "0.0001", "0", "USD", "0.0001", "0"},
		{"cross rate", "100", "0.86355", "0.01", "GBP", "0.8549145", "85.49"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Convert(d(tt.amount), d(tt.mid), d(tt.margin), cur(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if !c.AppliedRate.Equal(d(tt.wantApplied)) {
				t.Errorf("applied = %s, want %s", c.AppliedRate, tt.wantApplied)
			}
			if !c.ConvertedAmount.Equal(d(tt.wantConverted)) {
				t.Errorf("converted = %s, want %s", c.ConvertedAmount, tt.wantConverted)
			}
		})
	}
}

func TestCurrencyTableIsSorted(t *testing.T) {
	cs := Currencies()
	for i := 1; i < len(cs); i++ {
		if cs[i-1].Code >= cs[i].Code {
			t.Fatalf("currencies not strictly sorted at %s, %s", cs[i-1].Code, cs[i].Code)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct{ code, in, want string }{
		{"USD", "500", "500.00"},
		{"JPY", "1530", "1530"},
		{"KWD", "0.5", "0.500"},
		{"XAU", "1.25", "1"}, // no minor unit: whole units
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.code, d(tt.in)); got != tt.want {
			t.Errorf("FormatAmount(%s, %s) = %s, want %s", tt.code, tt.in, got, tt.want)
		}
	}
}

func TestMinAmount(t *testing.T) {
	cur := func(code string) Currency {
		c, ok := LookupCurrency(code)
		if !ok {
			t.Fatalf("no %s", code)
		}
		return c
	}
	d := decimal.RequireFromString
	for _, tt := range []struct {
		name, applied, from, to, want string
	}{
		{"VND to USD: whole dong", "0.000042408098028769312732720", "VND", "USD", "236"},
		{"USD to JPY: one yen", "138.5", "USD", "JPY", "0.01"},
		{"JPY to USD: whole yen", "0.0072", "JPY", "USD", "2"},
		{"exactly one unit", "0.01", "USD", "USD", "1.00"},
		{"to a three-decimal currency", "0.3", "USD", "KWD", "0.01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MinAmount(d(tt.applied), cur(tt.from), cur(tt.to))
			if !got.Equal(d(tt.want)) {
				t.Fatalf("MinAmount = %s, want %s", got, tt.want)
			}
			if err := CheckPayout(got, d(tt.applied), cur(tt.from), cur(tt.to)); err != nil {
				t.Fatalf("the minimum itself is refused: %v", err)
			}
			less := got.Sub(decimal.New(1, -int32(cur(tt.from).MinorUnits)))
			if less.IsPositive() && CheckPayout(less, d(tt.applied), cur(tt.from), cur(tt.to)) == nil {
				t.Fatalf("%s below the minimum converts", less)
			}
		})
	}
}

// TestDefunctCodesAreWithdrawn: every code the publishers' fixtures list
// as defunct is known, as withdrawn, so history and at= can serve it
// while latest lookups and conversions refuse it.
func TestDefunctCodesAreWithdrawn(t *testing.T) {
	b, err := os.ReadFile("../../testdata/defunct_currencies.json")
	if err != nil {
		t.Fatal(err)
	}
	var defunct []struct {
		Code string `json:"iso_code"`
	}
	if err := json.Unmarshal(b, &defunct); err != nil {
		t.Fatal(err)
	}
	if len(defunct) == 0 {
		t.Fatal("no defunct codes read")
	}
	for _, d := range defunct {
		t.Run(d.Code, func(t *testing.T) {
			c, ok := LookupCurrency(d.Code)
			if !ok || !c.Withdrawn {
				t.Errorf("%s: known %v, withdrawn %v; want a withdrawn currency", d.Code, ok, c.Withdrawn)
			}
		})
	}
}
