package catalog_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"ces/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite the publisher table in docs/publishers.md from the catalogue")

const docPath = "../../docs/publishers.md"

// generated are the tables of docs/publishers.md made from the catalogue,
// each between its two marker lines.
var generated = []struct {
	start, end string
	render     func() string
}{
	{"<!-- publishers: generated from internal/catalog by `go test ./internal/catalog -update`; do not edit -->\n", "<!-- end of publishers -->\n", table},
	{"<!-- pegs: generated from internal/catalog by `go test ./internal/catalog -update`; do not edit -->\n", "<!-- end of pegs -->\n", pegTable},
}

// table renders the catalogue as the Markdown table docs/publishers.md
// shows.
func table() string {
	var b strings.Builder
	b.WriteString("| key | publisher | seat | issues | quotes against | how | cadence | polled (UTC cron) | history from | key needed |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	dash := func(s string) string {
		if s == "" {
			return "–"
		}
		return s
	}
	for _, p := range catalog.All() {
		polled := "hourly"
		if len(p.Schedule) > 0 {
			polled = "`" + strings.Join(p.Schedule, "`, `") + "`"
		}
		key := "no"
		if !p.Keyless() {
			key = "`" + p.KeyEnv + "`"
		}
		name := p.Name
		if p.DataURL != "" {
			name = "[" + p.Name + "](" + p.DataURL + ")"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			p.Key, name, dash(p.Country), dash(p.Issues), dash(p.Pivot), p.Quoting, p.Cadence, polled, p.CoverageStart, key)
	}
	return b.String()
}

// pegTable renders the legal pegs.
func pegTable() string {
	var b strings.Builder
	b.WriteString("| currency | anchor | units per anchor | since | authority |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, p := range catalog.Pegs() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | [%s](%s) |\n", p.Quote, p.Base, p.Rate, p.Since, p.Authority, p.Source)
	}
	return b.String()
}

// TestPublishersDoc holds docs/publishers.md's tables to the catalogue.
func TestPublishersDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	want := string(doc)
	for _, g := range generated {
		before, rest, ok := strings.Cut(want, g.start)
		if !ok {
			t.Fatalf("%s has no marker %q", docPath, g.start)
		}
		_, after, ok := strings.Cut(rest, g.end)
		if !ok {
			t.Fatalf("%s has no marker %q", docPath, g.end)
		}
		want = before + g.start + g.render() + g.end + after
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s's tables differ from the catalogue: run go test ./internal/catalog -update", docPath)
	}
}
