package ces_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ces/internal/catalog"
	"ces/internal/fx"
)

// unpricedPattern finds docs/pricing.md's list of the active ISO 4217 codes the
// offline demo cannot price against USD: one "- `XXX`: reason" line each,
// between the coverage markers.
var unpricedPattern = regexp.MustCompile("(?m)^- `([A-Z]{3})`: ")

// readmeUnpriced returns the codes docs/pricing.md lists as not priced.
func readmeUnpriced(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("docs/pricing.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- coverage: unpriced -->\n")
	if !ok {
		t.Error("docs/pricing.md has no <!-- coverage: unpriced --> list")
	}
	list, _, ok := strings.Cut(rest, "<!-- end of coverage -->")
	if !ok {
		t.Error("docs/pricing.md's unpriced list has no end marker")
	}
	var out []string
	for _, m := range unpricedPattern.FindAllStringSubmatch(list, -1) {
		out = append(out, m[1])
	}
	return out
}

// issuedBy maps each currency to the catalogue publisher that issues it.
func issuedBy() map[string]string {
	out := map[string]string{}
	for _, p := range catalog.All() {
		if p.Issues != "" {
			out[p.Issues] = p.Key
		}
	}
	return out
}

// checkWorldCoverage is the end-to-end test of every publisher, on the
// offline demo the README test runs: each configured publisher has
// published into CES, USD→X answers 200 for every active ISO 4217 code
// but those docs/pricing.md lists (and only those), and at least 50 codes are
// priced by their own issuing authority: the leg that brings X into the
// answer is its central bank's row or its legal peg.
func checkWorldCoverage(t *testing.T, base string) {
	t.Helper()
	get := func(t *testing.T, path string, into any) int {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode
	}
	t.Run("every publisher ingested", func(t *testing.T) {
		type provider struct {
			Key        string `json:"key"`
			Configured bool   `json:"configured"`
			Newest     string `json:"newest_publication"`
		}
		// The demo triggers every schedule, then backfills: the last
		// ingestions may still be finishing.
		var missing []string
		for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(2 * time.Second) {
			var body struct{ Providers []provider }
			if code := get(t, "/api/v1/providers", &body); code != 200 {
				t.Fatalf("/api/v1/providers: %d", code)
			}
			missing = missing[:0]
			n := 0
			for _, p := range body.Providers {
				if p.Configured {
					n++
					if p.Newest == "" {
						missing = append(missing, p.Key)
					}
				}
			}
			if n < len(catalog.KeylessKeys()) {
				t.Fatalf("the demo serves %d publishers, want every keyless one (%d)", n, len(catalog.KeylessKeys()))
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(missing) > 0 {
			t.Fatalf("publishers with nothing stored: %v", missing)
		}
	})
	unpriced := readmeUnpriced(t)
	issuers := issuedBy()
	var notPriced, byIssuer []string
	for _, c := range fx.Currencies() {
		if c.Withdrawn || c.Code == "USD" {
			continue
		}
		var body struct {
			Provider string `json:"provider"`
			Legs     []struct {
				Provider    string `json:"provider"`
				Base, Quote string
			} `json:"legs"`
		}
		code := get(t, "/api/v1/rates?from=USD&to="+c.Code, &body)
		switch {
		case code == 404:
			notPriced = append(notPriced, c.Code)
			continue
		case code != 200:
			t.Errorf("USD→%s: %d", c.Code, code)
			continue
		}
		for _, l := range body.Legs {
			if l.Base != c.Code && l.Quote != c.Code {
				continue
			}
			if l.Provider == issuers[c.Code] || (l.Provider == catalog.PegProvider) {
				byIssuer = append(byIssuer, c.Code)
			}
			break
		}
	}
	t.Logf("USD→X: %d codes priced by their own issuer or peg: %s", len(byIssuer), strings.Join(byIssuer, " "))
	t.Logf("USD→X: not priced: %s", strings.Join(notPriced, " "))
	slices.Sort(notPriced)
	slices.Sort(unpriced)
	if !slices.Equal(notPriced, unpriced) {
		t.Errorf("the codes not priced differ from docs/pricing.md's list:\nnot priced: %v\nlisted:     %v", notPriced, unpriced)
	}
	if len(byIssuer) < 50 {
		t.Errorf("%d codes are priced by their own issuing authority, want at least 50", len(byIssuer))
	}
}
