package workflows

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
)

// TestQueuesRegisterWhatTheirWorkflowsRun: each task queue's registration
// holds the workflows recorded running on it and exactly the activities
// those runs scheduled. One missing fails every attempt of that
// activity; one extra is offered by workers that have no use for it, and
// perhaps not what it needs (an ingest-only worker has no signing key).
func TestQueuesRegisterWhatTheirWorkflowsRun(t *testing.T) {
	// The recorded runs ran on the default TEMPORAL_TASK_QUEUE and
	// TEMPORAL_AUDIT_TASK_QUEUE.
	registers := map[string]func(worker.Registry, *activities.Activities){
		"ces-ingest": RegisterIngest,
		"ces-audit":  RegisterAudit,
	}
	want := map[string]*registry{}
	for _, h := range recorded {
		typ, queue, scheduled := readHistory(t, h.file)
		if typ != h.workflow {
			t.Fatalf("%s records a run of %s, not %s", h.file, typ, h.workflow)
		}
		if registers[queue] == nil {
			t.Fatalf("%s ran on %s, a queue this test does not know", h.file, queue)
		}
		if want[queue] == nil {
			want[queue] = &registry{}
		}
		want[queue].workflows = append(want[queue].workflows, typ)
		want[queue].activities = append(want[queue].activities, scheduled...)
	}
	for _, queue := range slices.Sorted(maps.Keys(registers)) {
		t.Run(queue, func(t *testing.T) {
			var got registry
			registers[queue](&got, &activities.Activities{})
			w := want[queue]
			if w == nil {
				t.Fatalf("no recorded run on %s", queue)
			}
			if !slices.Equal(set(got.workflows), set(w.workflows)) || !slices.Equal(set(got.activities), set(w.activities)) {
				t.Fatalf("%s registers workflows %v and activities %v; its recorded runs are of %v and schedule %v",
					queue, set(got.workflows), set(got.activities), set(w.workflows), set(w.activities))
			}
		})
	}
}

// set returns the distinct names, sorted.
func set(names []string) []string {
	s := slices.Clone(names)
	slices.Sort(s)
	return slices.Compact(s)
}

// readHistory returns the workflow type of a recorded run, its task queue
// and the activity types it scheduled.
func readHistory(t *testing.T, file string) (typ, queue string, scheduled []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, e := range hist.GetEvents() {
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			typ, queue = a.GetWorkflowType().GetName(), a.GetTaskQueue().GetName()
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled = append(scheduled, a.GetActivityType().GetName())
		}
	}
	return typ, queue, scheduled
}

// registry records the names a Register function gives its workflows and
// activities; it implements only the methods those functions call.
type registry struct {
	worker.Registry
	workflows, activities []string
}

func (r *registry) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.workflows = append(r.workflows, o.Name)
}

// RegisterActivity names an activity as Temporal names a method value
// registered without options: by the method's name.
func (r *registry) RegisterActivity(a any) {
	if reflect.TypeOf(a).Kind() != reflect.Func {
		r.activities = append(r.activities, fmt.Sprintf("every method of %T", a))
		return
	}
	name := runtime.FuncForPC(reflect.ValueOf(a).Pointer()).Name() // ces/activities.(*Activities).FetchRates-fm
	name = strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")
	r.activities = append(r.activities, name)
}
