package admin

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/catalog"
	"ces/internal/policy"
	"ces/internal/store"
)

// publisherWindow is how far back a publisher's page looks from its
// newest publication (or from now, when it has none).
const publisherWindow = 56 * 24 * time.Hour

// timelineDay is one UTC day of a publisher's timeline.
type timelineDay struct {
	Date  time.Time
	State string // received, held, missed, none, outside
	Title string
}

type publisherData struct {
	Publisher catalog.Publisher
	Newest    time.Time
	HasNewest bool
	// Health is the newest health check (nil: none yet).
	Health *store.PublisherCheck
	// UpToNewest: the newest publication is older than half the window,
	// so the timeline ends there rather than now.
	UpToNewest bool
	From, To   time.Time
	Weeks      [][]timelineDay
	Received   int
	HeldDays   int
	Missed     int
	Pairs      []store.Pair
	Pair       string
	Chart      template.HTML
}

// publisher serves /admin/publishers/:key: what the catalogue says of one
// publisher, its publications over the last weeks (received, with rows
// held, or none) and a chart of one pair's recent rates with held and
// rejected rows marked.
func (c *Console) publisher(ctx *fiber.Ctx) error {
	p, ok := catalog.Lookup(ctx.Params("key"))
	if !ok {
		return fiber.ErrNotFound
	}
	uc := ctx.UserContext()
	d := publisherData{Publisher: p}
	newest, has, err := c.d.Stores.Rates.NewestAsOf(uc, p.Key)
	if err != nil {
		return err
	}
	d.Newest, d.HasNewest = newest, has
	if c.d.Stores.Health != nil {
		checks, err := c.d.Stores.Health.LatestChecks(uc)
		if err != nil {
			return err
		}
		for i := range checks {
			if checks[i].Provider == p.Key {
				d.Health = &checks[i]
			}
		}
	}
	now := c.d.Now()
	end := now
	if has && now.Sub(newest) > publisherWindow/2 {
		// Long silent, or replayed recordings: show the weeks that hold
		// its publications, up to the newest.
		end, d.UpToNewest = newest, true
	}
	d.To = end.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	d.From = d.To.Add(-publisherWindow)
	pubs, err := c.d.Stores.Rates.PublicationStates(uc, p.Key, d.From, d.To)
	if err != nil {
		return err
	}
	due := func(time.Time) bool { return false }
	if p.Cadence == catalog.Daily {
		days := policy.PublicationWeekdays(p)
		due = func(day time.Time) bool { return days[day.Weekday()] && !day.Add(24*time.Hour).After(now) }
	}
	d.Weeks, d.Received, d.HeldDays, d.Missed = timeline(d.From, d.To, pubs, due)
	if d.Pairs, err = c.d.Stores.Rates.Pairs(uc, p.Key, d.From, d.To); err != nil {
		return err
	}
	base, quote, _ := strings.Cut(strings.ToUpper(ctx.Query("pair")), "/")
	chosen := false
	for _, pr := range d.Pairs {
		if pr.Base == base && pr.Quote == quote {
			chosen = true
		}
	}
	if !chosen && len(d.Pairs) > 0 {
		base, quote = d.Pairs[0].Base, d.Pairs[0].Quote
		for _, pr := range d.Pairs { // the publisher's own currency first
			if p.Issues != "" && (pr.Base == p.Issues || pr.Quote == p.Issues) {
				base, quote = pr.Base, pr.Quote
				break
			}
		}
		chosen = true
	}
	if chosen {
		d.Pair = base + "/" + quote
		pts, err := c.d.Stores.Rates.Series(uc, p.Key, base, quote, d.From, d.To)
		if err != nil {
			return err
		}
		points := make([]chartPoint, len(pts))
		for i, s := range pts {
			points[i] = chartPoint{At: s.AsOf, Value: s.Value, RowID: s.ID, State: s.State}
		}
		d.Chart = seriesChart(fmt.Sprintf("%s→%s published by %s", base, quote, p.Key), points)
	}
	return c.render(ctx, fiber.StatusOK, "publisher", view{Title: p.Key + ": " + p.Name, Data: d})
}

// timeline lays the publications of [from, to) out by UTC day, Monday
// first, one row per week: a day with a publication is received, or held
// when any of its rows waits for an operator; a day without one is
// missed when the publisher was due to publish on it (due: a daily
// publisher's publication weekday, ended), and none otherwise.
func timeline(from, to time.Time, pubs []store.Publication, due func(day time.Time) bool) (weeks [][]timelineDay, received, held, missed int) {
	byDay := map[time.Time]store.Publication{}
	for _, p := range pubs {
		day := p.AsOf.UTC().Truncate(24 * time.Hour)
		agg := byDay[day]
		agg.AsOf, agg.Rows, agg.Held = p.AsOf, agg.Rows+p.Rows, agg.Held+p.Held
		agg.Released, agg.Rejected = agg.Released+p.Released, agg.Rejected+p.Rejected
		byDay[day] = agg
	}
	start := from.UTC().Truncate(24 * time.Hour)
	for start.Weekday() != time.Monday {
		start = start.Add(-24 * time.Hour)
	}
	var week []timelineDay
	for day := start; day.Before(to); day = day.Add(24 * time.Hour) {
		td := timelineDay{Date: day, State: "none", Title: day.Format("Mon 2006-01-02") + ": nothing published"}
		if day.Before(from.UTC().Truncate(24 * time.Hour)) {
			td.State, td.Title = "outside", day.Format("Mon 2006-01-02")
		} else if p, ok := byDay[day]; !ok && due(day) {
			missed++
			td.State, td.Title = "missed", day.Format("Mon 2006-01-02")+": due, nothing published"
		} else if ok {
			received++
			td.State = "received"
			td.Title = fmt.Sprintf("%s: %d rows at %s", day.Format("Mon 2006-01-02"), p.Rows, p.AsOf.UTC().Format("15:04Z"))
			if p.Rejected > 0 || p.Released > 0 {
				td.Title += fmt.Sprintf("; %d released after a hold, %d rejected", p.Released, p.Rejected)
			}
			if p.Held > 0 {
				held++
				td.State = "held"
				td.Title += fmt.Sprintf("; %d held, awaiting a decision", p.Held)
			}
		}
		week = append(week, td)
		if len(week) == 7 {
			weeks, week = append(weeks, week), nil
		}
	}
	if len(week) > 0 {
		weeks = append(weeks, week)
	}
	return weeks, received, held, missed
}
