package admin

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// Point states a chart marks: a released rate is on the line; a held or
// rejected one is drawn apart, so an operator sees what was kept out.
const (
	pointReleased = "released"
	pointHeld     = "held"
	pointRejected = "rejected"
)

// chartPoint is one stored rate of the series a publisher's page charts.
type chartPoint struct {
	At    time.Time
	Value decimal.Decimal
	RowID int64
	State string
}

// The chart's frame, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 240
	chartLeft   = 96 // room for the value labels
	chartRight  = 16
	chartTop    = 16
	chartBottom = 40 // room for the date labels
)

// seriesChart renders points (oldest first) as an inline SVG line chart:
// released rates joined by a line, held ones as open red circles and
// rejected ones as grey crosses, each with its value and date as a
// tooltip and a link to its row. Positions are computed from the
// decimals themselves, never through floating point, so the picture is
// as exact as its pixels allow. It is server-rendered: the console has no
// script and no build step.
func seriesChart(label string, points []chartPoint) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, chartHeight, chartWidth, chartHeight, html.EscapeString(label))
	fmt.Fprintf(&b, "\n<title>%s</title>", html.EscapeString(label))
	plotW, plotH := chartWidth-chartLeft-chartRight, chartHeight-chartTop-chartBottom
	fmt.Fprintf(&b, "\n"+`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>`, chartLeft, chartTop, plotW, plotH)
	if len(points) == 0 {
		fmt.Fprintf(&b, "\n"+`<text x="%d" y="%d" text-anchor="middle">no rates in this window</text>`, chartLeft+plotW/2, chartTop+plotH/2)
		b.WriteString("\n</svg>")
		return template.HTML(b.String())
	}
	// The value axis spans the released rates, so that one outlier does
	// not flatten the series; a held or rejected rate beyond it is drawn
	// on the frame's edge, its value in its tooltip.
	onAxis := func(p chartPoint) bool { return true }
	if slices.ContainsFunc(points, func(p chartPoint) bool { return p.State == pointReleased }) {
		onAxis = func(p chartPoint) bool { return p.State == pointReleased }
	}
	var lo, hi decimal.Decimal
	first := true
	for _, p := range points {
		if !onAxis(p) {
			continue
		}
		if first {
			lo, hi, first = p.Value, p.Value, false
		}
		lo, hi = decimal.Min(lo, p.Value), decimal.Max(hi, p.Value)
	}
	t0, t1 := points[0].At, points[0].At
	for _, p := range points {
		if p.At.Before(t0) {
			t0 = p.At
		}
		if p.At.After(t1) {
			t1 = p.At
		}
	}
	x := func(t time.Time) int {
		if !t1.After(t0) {
			return chartLeft + plotW/2
		}
		return chartLeft + int(int64(plotW)*int64(t.Sub(t0)/time.Second)/int64(t1.Sub(t0)/time.Second))
	}
	y := func(v decimal.Decimal) int {
		if hi.Equal(lo) {
			switch v.Cmp(hi) {
			case 1:
				return chartTop
			case -1:
				return chartTop + plotH
			}
			return chartTop + plotH/2
		}
		// (hi − v) ÷ (hi − lo) of the plot's height, rounded to a unit,
		// kept inside the frame.
		off := hi.Sub(v).Mul(decimal.NewFromInt(int64(plotH))).DivRound(hi.Sub(lo), 0).IntPart()
		return chartTop + int(min(max(off, 0), int64(plotH)))
	}
	fmt.Fprintf(&b, "\n"+`<text x="%d" y="%d" text-anchor="end">%s</text>`, chartLeft-6, chartTop+4, fx.Exact(hi))
	fmt.Fprintf(&b, "\n"+`<text x="%d" y="%d" text-anchor="end">%s</text>`, chartLeft-6, chartTop+plotH+4, fx.Exact(lo))
	fmt.Fprintf(&b, "\n"+`<text x="%d" y="%d" text-anchor="start">%s</text>`, chartLeft, chartHeight-14, t0.UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "\n"+`<text x="%d" y="%d" text-anchor="end">%s</text>`, chartLeft+plotW, chartHeight-14, t1.UTC().Format("2006-01-02"))
	var line []string
	for _, p := range points {
		if p.State == pointReleased {
			line = append(line, fmt.Sprintf("%d,%d", x(p.At), y(p.Value)))
		}
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, "\n"+`<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="%s"/>`, strings.Join(line, " "))
	}
	for _, p := range points {
		px, py := x(p.At), y(p.Value)
		tip := html.EscapeString(fmt.Sprintf("%s %s, %s (row %d)", p.State, fx.Exact(p.Value), p.At.UTC().Format(time.RFC3339), p.RowID))
		fmt.Fprintf(&b, "\n"+`<a href="/admin/rates/%d">`, p.RowID)
		switch p.State {
		case pointHeld:
			fmt.Fprintf(&b, `<circle class="held" cx="%d" cy="%d" r="6" fill="none" stroke="#b00020" stroke-width="2"><title>%s</title></circle>`, px, py, tip)
		case pointRejected:
			fmt.Fprintf(&b, `<path class="rejected" d="M%d %dl8 8m0 -8l-8 8" stroke="#777" stroke-width="2"><title>%s</title></path>`, px-4, py-4, tip)
		default:
			fmt.Fprintf(&b, `<circle class="released" cx="%d" cy="%d" r="3" fill="#1f5fa8"><title>%s</title></circle>`, px, py, tip)
		}
		b.WriteString("</a>")
	}
	b.WriteString("\n</svg>")
	return template.HTML(b.String())
}
