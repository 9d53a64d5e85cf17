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

const (
	docPath    = "../../docs/publishers.md"
	tableStart = "<!-- publishers: generated from internal/catalog by `go test ./internal/catalog -update`; do not edit -->\n"
	tableEnd   = "<!-- end of publishers -->\n"
)

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
		fmt.Fprintf(&b, "| `%s` | [%s](%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			p.Key, p.Name, p.DataURL, dash(p.Country), dash(p.Issues), p.Pivot, p.Quoting, p.Cadence, polled, p.CoverageStart, key)
	}
	return b.String()
}

// TestPublishersDoc holds docs/publishers.md's table to the catalogue.
func TestPublishersDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), tableStart)
	if !ok {
		t.Fatalf("%s has no generated table marker", docPath)
	}
	_, after, ok := strings.Cut(rest, tableEnd)
	if !ok {
		t.Fatalf("%s has no end-of-table marker", docPath)
	}
	want := before + tableStart + table() + tableEnd + after
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s's table differs from the catalogue: run go test ./internal/catalog -update", docPath)
	}
}
