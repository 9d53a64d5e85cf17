package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"

	"ces/activities"
	"ces/internal/flow"
)

func TestSealAuditLogRetriesThenSeals(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(SealAuditLog)
	var a *activities.Activities
	attempts := 0
	env.OnActivity(a.SealAudit, mock.Anything).Run(func(mock.Arguments) { attempts++ }).
		Return(flow.SealAuditResult{}, errors.New("store: seal audit log: connection reset")).Once()
	env.OnActivity(a.SealAudit, mock.Anything).Run(func(mock.Arguments) { attempts++ }).
		Return(flow.SealAuditResult{Sealed: true, SealID: 7, Rows: 3}, nil).Once()
	env.ExecuteWorkflow(SealAuditLog)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res flow.SealAuditResult
	if err := env.GetWorkflowResult(&res); err != nil || !res.Sealed || res.SealID != 7 || attempts != 2 {
		t.Fatalf("result = %+v (%v), attempts %d", res, err, attempts)
	}
}
