package activities_test

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/flow"
	"ces/internal/store"
	"ces/internal/testenv"
)

// unwritable is an anchor whose storage refuses writes while down is set
// (a full disk, an object store that is unreachable).
type unwritable struct {
	anchor.Sink
	down bool
}

func (u *unwritable) Put(ctx context.Context, s audit.Seal) error {
	if u.down {
		return errors.New("anchor: write: no space left on device")
	}
	return u.Sink.Put(ctx, s)
}

// TestSealAuditNeverSkipsAWindow: when the anchor cannot be written, the
// seal activity fails (and Temporal retries it); the seal it committed is
// anchored by the next attempt before anything new is sealed, so the
// anchor ends with every seal, and verify-audit finds the two in step.
func TestSealAuditNeverSkipsAWindow(t *testing.T) {
	st := store.New(testenv.DB(t))
	sealing := testenv.NewSealing(t)
	sink := &unwritable{Sink: sealing.Anchor}
	a := &activities.Activities{Rates: st.Rates, Quality: st.Quality, Audit: st.Audit, Signer: sealing.Signer, Anchor: sink}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	seal := func() (flow.SealAuditResult, error) {
		var res flow.SealAuditResult
		v, err := env.ExecuteActivity(a.SealAudit)
		if err == nil {
			err = v.Get(&res)
		}
		return res, err
	}
	// Sealing covers only transactions older than every running one in the
	// cluster, so seal until the rows are covered (other tests run too).
	sealUntilCovered := func() []flow.SealAuditResult {
		t.Helper()
		var out []flow.SealAuditResult
		for range 200 {
			res, err := seal()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res)
			if rep := sealing.Verify(t, st, false); rep.Unsealed == 0 && rep.Seals > 0 {
				return out
			}
		}
		t.Fatal("rows stayed unsealed")
		return nil
	}

	testenv.SeedReceipts(t, st, 2)
	sink.down = true
	var failed bool
	for range 200 {
		if _, err := seal(); err != nil {
			failed = true
			break
		}
	}
	if !failed {
		t.Fatal("the seal activity succeeded with an anchor it could not write")
	}
	committed, err := st.Audit.Seals(context.Background(), 0)
	if err != nil || len(committed) != 1 {
		t.Fatalf("committed seals = %d, %v; want the one the failed attempt made", len(committed), err)
	}
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.PendingAnchor != 1 {
		t.Fatalf("verify with the newest seal unanchored = %+v, want it pending, not a failure", rep)
	}

	sink.down = false
	testenv.SeedReceipts(t, st, 1)
	results := sealUntilCovered()
	anchored, err := sealing.Anchor.Seals(context.Background())
	all, err2 := st.Audit.Seals(context.Background(), 0)
	if err != nil || err2 != nil || len(anchored) != len(all) || len(all) < 2 {
		t.Fatalf("anchored %d of %d seals (%v %v)", len(anchored), len(all), err, err2)
	}
	// Each seal anchored exactly once: the missed one by the first attempt
	// after the anchor came back, then each new one by its own.
	total := 0
	for _, r := range results {
		total += r.Anchored
	}
	if results[0].Anchored < 1 || total != len(all) {
		t.Fatalf("attempts anchored %+v, want %d seals in all, the missed one first", results, len(all))
	}
	if rep := sealing.Verify(t, st, true); !rep.OK() || rep.PendingAnchor != 0 || rep.Unsigned != 0 || rep.Rows != 3 {
		t.Fatalf("verify after the retry = %+v", rep)
	}
}
