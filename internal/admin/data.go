package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/audit"
	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/conversions"
	"ces/internal/fx"
	"ces/internal/store"
)

// PageSize is the number of rows per listing page.
const PageSize = 50

// parseDay reads an optional YYYY-MM-DD filter; end days are inclusive.
func parseDay(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", v)
	}
	if end {
		d = d.Add(24 * time.Hour)
	}
	return d, nil
}

// code reads a currency code from a form or query value, copied out of
// Fiber's buffer.
func code(v string) string { return strings.Clone(strings.ToUpper(strings.TrimSpace(v))) }

type rateFilterForm struct {
	Provider, Base, Quote, From, To string
}

func (c *Console) rateFilter(ctx *fiber.Ctx) (store.RateFilter, rateFilterForm, error) {
	form := rateFilterForm{
		Provider: strings.Clone(ctx.Query("provider")), Base: code(ctx.Query("base")), Quote: code(ctx.Query("quote")),
		From: strings.Clone(ctx.Query("from")), To: strings.Clone(ctx.Query("to")),
	}
	f := store.RateFilter{Provider: form.Provider, Base: form.Base, Quote: form.Quote}
	var err1, err2 error
	f.From, err1 = parseDay(form.From, false)
	f.To, err2 = parseDay(form.To, true)
	return f, form, errors.Join(err1, err2)
}

func (f rateFilterForm) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"provider": f.Provider, "base": f.Base, "quote": f.Quote, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type ratesData struct {
	Filter  rateFilterForm
	Rows    []store.RateRecord
	NextURL string
	CSVURL  string
}

func encodeCursor(cur store.Cursor) string {
	return strconv.FormatInt(cur.AsOf.UnixMicro(), 10) + "_" + strconv.FormatInt(cur.ID, 10)
}

func decodeCursor(s string) (*store.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, "_")
	us, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, errors.New("bad page cursor")
	}
	return &store.Cursor{AsOf: time.UnixMicro(us).UTC(), ID: id}, nil
}

func (c *Console) rates(ctx *fiber.Ctx) error {
	f, form, err := c.rateFilter(ctx)
	d := ratesData{Filter: form}
	if err != nil {
		return c.render(ctx, fiber.StatusBadRequest, "rates", view{Title: "Rates", Error: err.Error(), Data: d})
	}
	after, err := decodeCursor(ctx.Query("after"))
	if err != nil {
		return c.render(ctx, fiber.StatusBadRequest, "rates", view{Title: "Rates", Error: err.Error(), Data: d})
	}
	if d.Rows, err = c.d.Stores.Rates.RatesPage(ctx.UserContext(), f, after, PageSize); err != nil {
		return err
	}
	q := form.query()
	d.CSVURL = "/admin/rates.csv?" + q.Encode()
	if len(d.Rows) == PageSize {
		last := d.Rows[len(d.Rows)-1]
		q.Set("after", encodeCursor(store.Cursor{AsOf: last.AsOf, ID: last.ID}))
		d.NextURL = "/admin/rates?" + q.Encode()
	}
	return c.render(ctx, fiber.StatusOK, "rates", view{Title: "Rates", Data: d})
}

// ratesCSV streams every rate of the filter as CSV, page by page, so the
// export never holds the result in memory.
func (c *Console) ratesCSV(ctx *fiber.Ctx) error {
	f, _, err := c.rateFilter(ctx)
	if err != nil {
		return ctx.Status(fiber.StatusBadRequest).SendString(err.Error())
	}
	ctx.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	ctx.Set(fiber.HeaderContentDisposition, `attachment; filename="ces-rates.csv"`)
	// The stream outlives the handler: give it its own context, bounded.
	st := c.d.Stores.Rates
	ctx.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		cx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		w.WriteString("id,provider,base,quote,rate,as_of,fetched_at,workflow_id,run_id,payload_sha256\n")
		err := st.StreamRates(cx, f, func(r store.RateRecord) error {
			fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r.ID, csvField(r.Provider), r.Base, r.Quote, fx.Exact(r.Value),
				r.AsOf.Format(time.RFC3339), r.FetchedAt.Format(time.RFC3339Nano), csvField(r.WorkflowID), csvField(r.RunID), r.PayloadSHA256)
			return w.Flush()
		})
		if err != nil {
			w.WriteString("# export interrupted: " + err.Error() + "\n")
			w.Flush()
		}
	})
	return nil
}

// csvField quotes a value that could break the CSV line.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func (c *Console) rate(ctx *fiber.Ctx) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	r, err := c.d.Stores.Rates.RateRecordByID(ctx.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.render(ctx, fiber.StatusOK, "rate", view{Title: fmt.Sprintf("Rate %d", id), Data: r})
}

type conversionFilterForm struct {
	From, To, Since, Until, ID, Key string
}

type conversionsData struct {
	Filter  conversionFilterForm
	Rows    []fx.Receipt
	NextURL string
}

func (c *Console) conversions(ctx *fiber.Ctx) error {
	form := conversionFilterForm{
		From: code(ctx.Query("from")), To: code(ctx.Query("to")), Since: strings.Clone(ctx.Query("since")),
		Until: strings.Clone(ctx.Query("until")), ID: strings.Clone(strings.TrimSpace(ctx.Query("id"))),
		Key: strings.Clone(ctx.Query("key")),
	}
	d := conversionsData{Filter: form}
	since, err1 := parseDay(form.Since, false)
	until, err2 := parseDay(form.Until, true)
	before, err3 := strconv.ParseInt("0"+ctx.Query("before"), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return c.render(ctx, fiber.StatusBadRequest, "conversions", view{Title: "Conversions", Error: err.Error(), Data: d})
	}
	rows, seqs, err := c.d.Stores.Conversions.ConversionsPage(ctx.UserContext(), store.ConversionFilter{
		From: form.From, To: form.To, Since: since, Until: until, ID: form.ID, IdempotencyKey: form.Key,
	}, before, PageSize)
	if err != nil {
		return err
	}
	d.Rows = rows
	if len(rows) == PageSize {
		q := url.Values{}
		for k, v := range map[string]string{"from": form.From, "to": form.To, "since": form.Since, "until": form.Until, "id": form.ID, "key": form.Key} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("before", strconv.FormatInt(seqs[len(seqs)-1], 10))
		d.NextURL = "/admin/conversions?" + q.Encode()
	}
	return c.render(ctx, fiber.StatusOK, "conversions", view{Title: "Conversions", Data: d})
}

type conversionData struct {
	Receipt  fx.Receipt
	Verified bool
	// Quote is the quote the receipt executed; nil when it was priced at
	// the moment of conversion (or the quote row is missing: QuoteMissing).
	Quote        *store.ReceiptQuote
	QuoteMissing bool
	// QuoteVerified says the quote's stored hash matches its content, and
	// QuoteProblem how the receipt departs from the quote ("" when it
	// executed it at exactly its figures, for its key, in time).
	QuoteVerified bool
	QuoteProblem  string
	// Key is the API key the receipt was made with; nil for a receipt from
	// before keys (or a key row that is missing: KeyMissing).
	Key        *clients.Key
	KeyMissing bool
}

func (c *Console) conversion(ctx *fiber.Ctx) error {
	id := strings.Clone(ctx.Params("id"))
	if !conversions.ValidID(id) {
		return fiber.ErrNotFound
	}
	r, err := c.d.Stores.Conversions.ConversionByID(ctx.UserContext(), id)
	if errors.Is(err, fx.ErrConversionNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	d := conversionData{Receipt: r, Verified: audit.ReceiptHash(r) == r.Hash}
	if r.QuoteID != "" {
		q, err := c.d.Stores.Conversions.QuoteByID(ctx.UserContext(), r.QuoteID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d.QuoteMissing = true
		case err != nil:
			return err
		default:
			d.Quote = &q
			d.QuoteVerified = audit.QuoteHash(q.Quote) == q.Hash
			if err := audit.CheckQuoted(r, q.Quote); err != nil {
				d.QuoteProblem = err.Error()
			}
		}
	}
	if r.APIKeyID != "" {
		k, err := c.d.Stores.Keys.APIKeyByID(ctx.UserContext(), r.APIKeyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d.KeyMissing = true
		case err != nil:
			return err
		default:
			d.Key = &k
		}
	}
	return c.render(ctx, fiber.StatusOK, "conversion", view{Title: "Conversion " + r.ID, Data: d})
}

type integrityData struct {
	Seal    audit.Seal
	HasSeal bool
	// OldestUnsealed is the age of the oldest audit row no seal covers;
	// SealLate says it is past sealLate.
	OldestUnsealed time.Duration
	HasUnsealed    bool
	SealLate       bool
	// Last is the newest recorded verification (any starter or console run).
	Last    store.Verification
	HasLast bool
	// Running names a verification started by this request that had not
	// finished when the page was rendered.
	RunningID, RunningRun string
	// Finished says this request's verification finished (Last is it).
	Finished  bool
	CanVerify bool
	// Seq says which audit sequence numbers no row holds, and why.
	Seq store.SeqGaps
}

// gapsShown is how many runs of unused sequence numbers the Integrity
// page lists.
const gapsShown = 20

// sealLate is when an unsealed row is worth a warning: seals are made
// every minute, so five minutes means something holds them back.
const sealLate = 5 * time.Minute

func (c *Console) integrity(ctx *fiber.Ctx) error {
	return c.renderIntegrity(ctx, integrityData{})
}

func (c *Console) renderIntegrity(ctx *fiber.Ctx, d integrityData) error {
	var err error
	d.CanVerify = c.d.Verifications != nil
	if d.Seal, d.HasSeal, err = c.d.Stores.Audit.LatestSeal(ctx.UserContext()); err != nil {
		return err
	}
	at, ok, err := c.d.Stores.Audit.OldestUnsealed(ctx.UserContext())
	if err != nil {
		return err
	}
	if ok {
		d.OldestUnsealed, d.HasUnsealed = max(c.d.Now().Sub(at), 0), true
		d.SealLate = d.OldestUnsealed > sealLate
	}
	if d.Last, d.HasLast, err = c.d.Stores.Audit.LatestVerification(ctx.UserContext()); err != nil {
		return err
	}
	if d.Seq, err = c.d.Stores.Audit.AuditSeqGaps(ctx.UserContext(), gapsShown); err != nil {
		return err
	}
	return c.render(ctx, fiber.StatusOK, "integrity", view{Title: "Integrity", Data: d})
}

// verify starts verify-audit as a workflow on a worker and waits for it
// while the request's deadline allows (a small log takes well under a
// second); a longer run is left running, and the page links to it.
func (c *Console) verify(ctx *fiber.Ctx) error {
	if c.d.Verifications == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "verification is not configured")
	}
	rctx := ctx.UserContext()
	wid, rid, err := c.d.Verifications.Start(rctx, c.user(ctx), ctx.FormValue("full") == "on")
	outcome := "started " + wid
	if err != nil {
		outcome = "failed to start: " + err.Error()
	}
	if rerr := c.d.Stores.Console.RecordAdminAction(rctx, store.AdminAction{
		Username: c.user(ctx), Action: "verify-audit", Target: "conversion_audits", Outcome: outcome, Client: clientaddr.Of(ctx),
	}); rerr != nil {
		return rerr
	}
	if err != nil {
		return err
	}
	wait := rctx
	if dl, ok := rctx.Deadline(); ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithDeadline(rctx, dl.Add(-500*time.Millisecond))
		defer cancel()
	}
	if _, err := c.d.Verifications.Wait(wait, wid, rid); err != nil && wait.Err() == nil {
		return err
	} else if err != nil {
		return c.renderIntegrity(ctx, integrityData{RunningID: wid, RunningRun: rid})
	}
	return c.renderIntegrity(ctx, integrityData{Finished: true})
}
