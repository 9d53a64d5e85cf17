package ingestion

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// LastIngestionError describes why the newest IngestRates run of provider
// has not (yet) succeeded: the failure of a failed run, or the last error
// of an activity a running one is retrying. It returns "" when the newest
// run is fine or when Temporal cannot be asked.
func LastIngestionError(ctx context.Context, c client.Client, provider string) string {
	execs, err := recentRuns(ctx, c, provider, 1)
	if err != nil || len(execs) == 0 {
		return ""
	}
	ex := execs[0]
	switch ex.Status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		d, err := c.DescribeWorkflowExecution(ctx, ex.Execution.WorkflowId, ex.Execution.RunId)
		if err != nil {
			return ""
		}
		for _, pa := range d.PendingActivities {
			if f := pa.GetLastFailure(); f != nil {
				return fmt.Sprintf("%s is retrying (attempt %d): %s", pa.GetActivityType().GetName(), pa.GetAttempt(), f.GetMessage())
			}
		}
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		err := c.GetWorkflow(ctx, ex.Execution.WorkflowId, ex.Execution.RunId).Get(ctx, nil)
		if err != nil {
			// The innermost cause is the provider's own message.
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				err = u
			}
			return err.Error()
		}
	}
	return ""
}
