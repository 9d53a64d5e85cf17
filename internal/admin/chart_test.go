package admin

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden SVG charts in testdata/chart")

// TestSeriesChart pins the charts' SVG (golden files) and checks what an
// operator relies on: held and rejected rows are drawn apart from the
// line, every point links to its row, and the file is well-formed XML.
func TestSeriesChart(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 5, d, 16, 0, 0, 0, time.UTC) }
	dec := decimal.RequireFromString
	for _, tt := range []struct {
		name   string
		points []chartPoint
		held   int
	}{
		{"empty", nil, 0},
		{"one point", []chartPoint{{day(14), dec("1371.8079"), 1, pointReleased}}, 0},
		{"flat", []chartPoint{{day(14), dec("655.957"), 1, pointReleased}, {day(15), dec("655.957"), 2, pointReleased}}, 0},
		{"a devaluation held, then a rejected outlier", []chartPoint{
			{day(14), dec("1371.8079"), 11, pointReleased},
			{day(15), dec("1372.1"), 12, pointReleased},
			{day(18), dec("1920.5"), 13, pointHeld},
			{day(19), dec("1370.25"), 14, pointReleased},
			{day(20), dec("137.025"), 15, pointRejected},
			{day(21), dec("1371.0000"), 16, pointReleased},
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(seriesChart("USD→NGN, cbn", tt.points))
			if err := xml.Unmarshal([]byte(got), new(struct{})); err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, got)
			}
			if n := strings.Count(got, `class="held"`); n != tt.held {
				t.Errorf("%d held marks, want %d", n, tt.held)
			}
			for _, p := range tt.points {
				if !strings.Contains(got, `href="/admin/rates/`+strings.TrimSpace(decimal.NewFromInt(p.RowID).String())+`"`) {
					t.Errorf("row %d has no link", p.RowID)
				}
			}
			golden := filepath.Join("testdata", "chart", strings.ReplaceAll(tt.name, " ", "-")+".svg")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/admin -run TestSeriesChart -update writes it)", err)
			}
			if got+"\n" != string(want) {
				t.Errorf("the chart differs from %s:\n%s", golden, got)
			}
		})
	}
}
