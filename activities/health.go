package activities

import (
	"context"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"ces/internal/catalog"
	"ces/internal/flow"
	"ces/internal/policy"
	"ces/internal/store"
)

// PublicationReader reads the instants of a provider's stored
// publications (*store.Rates), held ones included: the publisher did
// publish them.
type PublicationReader interface {
	Publications(ctx context.Context, provider string, from time.Time) ([]time.Time, error)
	NewestAsOfAt(ctx context.Context, provider string, at time.Time) (time.Time, bool, error)
}

// HealthRecorder records health checks (*store.Health).
type HealthRecorder interface {
	RecordChecks(ctx context.Context, checks []store.PublisherCheck) error
}

// HealthObserver is told each publisher's verdict (*metrics.Worker's
// gauges).
type HealthObserver interface {
	PublisherHealth(provider string, h policy.Health)
}

// CheckPublisherHealth judges each publisher (in.Providers, or every one
// the worker holds that the catalogue knows) at in.At: its publications
// in the rule's window and its newest, read from PostgreSQL. It records
// one check per publisher and sets the gauges. Retrying it is safe: the
// checks of one instant are recorded once.
func (a *Activities) CheckPublisherHealth(ctx context.Context, in flow.CheckPublisherHealthInput) (flow.CheckPublisherHealthResult, error) {
	if a.Publications == nil || a.Health == nil {
		return flow.CheckPublisherHealthResult{}, temporal.NewNonRetryableApplicationError("this worker cannot read publications or record health checks", "HealthNotConfigured", nil)
	}
	at := in.At
	if at.IsZero() {
		at = a.now()
	}
	at = at.UTC()
	providers := in.Providers
	if len(providers) == 0 {
		for p := range a.Providers {
			providers = append(providers, p)
		}
	}
	slices.Sort(providers)
	rule := a.HealthRule
	if rule == (policy.HealthRule{}) {
		rule = policy.DefaultHealthRule
	}
	info := activity.GetInfo(ctx)
	res := flow.CheckPublisherHealthResult{At: at}
	var checks []store.PublisherCheck
	var verdicts []policy.Health
	for _, key := range slices.Compact(providers) {
		p, ok := catalog.Lookup(key)
		if !ok {
			continue // the offline demo's file: no cadence to judge by
		}
		from := policy.HealthWindow(p.Cadence, at)
		pubs, err := a.Publications.Publications(ctx, key, from)
		if err != nil {
			return res, err
		}
		newest, _, err := a.Publications.NewestAsOfAt(ctx, key, at)
		if err != nil {
			return res, err
		}
		h := rule.Judge(p, pubs, from, newest, at)
		checks = append(checks, store.PublisherCheck{
			Provider: key, CheckedAt: at, Status: h.Status, WindowStart: from,
			Expected: h.Expected, Missed: h.Missed, NewestAsOf: h.Newest, WorkflowID: info.WorkflowExecution.ID,
		})
		verdicts = append(verdicts, h)
		switch h.Status {
		case policy.Late:
			res.Late = append(res.Late, key)
		case policy.Silent:
			res.Silent = append(res.Silent, key)
		}
	}
	if err := a.Health.RecordChecks(ctx, checks); err != nil {
		return res, err
	}
	// The gauges follow what was recorded, never a check that failed.
	if a.HealthMetrics != nil {
		for i, c := range checks {
			a.HealthMetrics.PublisherHealth(c.Provider, verdicts[i])
		}
	}
	res.Checked = len(checks)
	if len(res.Late)+len(res.Silent) > 0 {
		activity.GetLogger(ctx).Warn("publishers late or silent", "at", at, "late", res.Late, "silent", res.Silent)
	}
	return res, nil
}
