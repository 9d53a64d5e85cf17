package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/store"
)

// Listing sizes of the quality page.
const (
	heldLimit    = 200
	decidedLimit = 50
)

type qualityData struct {
	Held      []store.Quarantine
	Decided   []store.Quarantine
	Suspended []store.Suspension
	// Base, Quote and Reason refill the suspend form after a refusal.
	Base, Quote, Reason string
}

func (c *Console) quality(ctx *fiber.Ctx) error {
	return c.renderQuality(ctx, fiber.StatusOK, "", qualityData{})
}

// renderQuality shows the held quarantines, the recent decisions and the
// suspended pairs.
func (c *Console) renderQuality(ctx *fiber.Ctx, status int, errMsg string, d qualityData) error {
	cx := ctx.UserContext()
	var err error
	if d.Held, err = c.d.Stores.Quality.Quarantines(cx, true, heldLimit); err != nil {
		return err
	}
	all, err := c.d.Stores.Quality.Quarantines(cx, false, decidedLimit)
	if err != nil {
		return err
	}
	for _, q := range all {
		if q.Status != store.QuarantineHeld {
			d.Decided = append(d.Decided, q)
		}
	}
	if d.Suspended, err = c.d.Stores.Quality.Suspensions(cx); err != nil {
		return err
	}
	return c.render(ctx, status, "quality", view{Title: "Quality", Error: errMsg, Data: d})
}

// decide releases (the rate is priced from now on) or rejects a held rate.
func (c *Console) decide(release bool) fiber.Handler {
	action := "reject"
	if release {
		action = "release"
	}
	return func(ctx *fiber.Ctx) error {
		id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
		if err != nil {
			return fiber.ErrNotFound
		}
		target := fmt.Sprintf("quarantine %d", id)
		switch q, err := c.d.Stores.Quality.Quarantine(ctx.UserContext(), id); {
		case err == nil:
			target = fmt.Sprintf("quarantine %d (%s %s/%s %s)", id, q.Rate.Provider, q.Rate.Base, q.Rate.Quote, fx.Exact(q.Rate.Value))
		case !errors.Is(err, store.ErrQuarantineNotFound):
			return err
		}
		// The figures the operator was shown travel with the form: the
		// decision records them, and the store refuses figures that are
		// not the quarantine's.
		reason, user, figures := formReason(ctx), c.user(ctx), strings.Clone(strings.TrimSpace(ctx.FormValue("figures")))
		return c.act(ctx, action, target, reason, "/admin/quality", func(cx context.Context) (string, error) {
			q, err := c.d.Stores.Quality.Decide(cx, store.Decision{ID: id, Release: release, Reason: reason, Username: user, Figures: figures}, gate.Cascade)
			if err != nil {
				return "", err
			}
			note := ""
			if n := len(q.Cascaded); n > 0 {
				note = fmt.Sprintf("%d later held rate(s) of %s/%s were within the limit of it and released too", n, q.Rate.Base, q.Rate.Quote)
			}
			if c.d.Rates == nil {
				return note, nil
			}
			// A release or a rejection ends the series' review: every
			// replica prices it again at once (rates.Resync republishes the
			// held series with the rates).
			if err := c.d.Rates.Resync(cx, q.Rate.Provider); err != nil {
				return strings.TrimPrefix(note+"; republishing failed (every API replica re-reads the held series within 30 s; the rate reaches the cache at its provider's next ingestion): "+err.Error(), "; "), nil
			}
			return note, nil
		}, func(status int, msg string) error {
			return c.renderQuality(ctx, status, msg, qualityData{})
		})
	}
}

// suspension suspends or resumes the pair the form names, both ways round.
func (c *Console) suspension(suspend bool) fiber.Handler {
	action := "resume-pair"
	if suspend {
		action = "suspend-pair"
	}
	return func(ctx *fiber.Ctx) error {
		form := qualityData{Base: code(ctx.FormValue("base")), Quote: code(ctx.FormValue("quote")), Reason: formReason(ctx)}
		refused := func(status int, msg string) error { return c.renderQuality(ctx, status, msg, form) }
		if err := checkPair(form.Base, form.Quote); err != nil {
			return refused(fiber.StatusBadRequest, action+": "+err.Error())
		}
		user := c.user(ctx)
		return c.act(ctx, action, "pair "+form.Base+"/"+form.Quote, form.Reason, "/admin/quality", func(cx context.Context) (string, error) {
			if err := c.d.Stores.Quality.SetSuspension(cx, form.Base, form.Quote, suspend, form.Reason, user); err != nil || c.d.Rates == nil {
				return "", err
			}
			if err := c.d.Rates.SyncSuspensions(cx); err != nil {
				return "republishing the suspensions failed (every API replica re-reads them within 30 s): " + err.Error(), nil
			}
			return "", nil
		}, refused)
	}
}

// checkPair validates the two codes of a pair.
func checkPair(a, b string) error {
	_, err1 := fx.ParseCurrency(a)
	_, err2 := fx.ParseCurrency(b)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if a == b {
		return fmt.Errorf("%s/%s is not a pair", a, b)
	}
	return nil
}

var hundred = decimal.NewFromInt(100)

// percent writes a relative change (0.4 is 40%) as a percentage with two decimals.
func percent(d decimal.Decimal) string {
	return d.Mul(hundred).StringFixed(2) + "%"
}

// againstText says what a quarantined rate was compared with.
func againstText(q store.Quarantine) string {
	switch q.Against {
	case policy.AgainstProvider:
		return "provider " + q.Reference.Provider
	case policy.AgainstConsensus:
		return fmt.Sprintf("median of %d other publishers' %s in %s", q.Publishers, q.Currency, q.On)
	case policy.AgainstIssuer:
		return fmt.Sprintf("issuer %s's %s in %s", q.Reference.Provider, q.Currency, q.On)
	}
	return "previous " + q.Reference.Provider + " rate"
}

// checkText names the gate's check that held a rate.
func checkText(q store.Quarantine) string {
	switch q.Against {
	case policy.AgainstProvider:
		return "cross-publisher: another publisher's rate of the pair"
	case policy.AgainstConsensus:
		return "consensus: the other publishers' values of " + q.Currency + " that day"
	case policy.AgainstIssuer:
		return "issuer: the issuing authority's value of " + q.Currency + " that day"
	}
	return "jump: the publisher's own previous rate"
}
