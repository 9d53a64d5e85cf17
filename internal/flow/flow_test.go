package flow_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStartersLinkNoWorkerCode: the binaries that only start workflows
// and read their results (the API with its admin console, and the
// starter) link through flow, never the workflows, the activities, a
// provider adapter or the SDK's worker. Otherwise every change to the
// worker side rebuilds and redeploys them, and they carry its
// dependencies.
func TestStartersLinkNoWorkerCode(t *testing.T) {
	for _, bin := range []string{"ces/api", "ces/starter"} {
		t.Run(bin, func(t *testing.T) {
			// Each package with its imports, so a failure names who pulls
			// the worker side in.
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", bin).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", bin, err)
			}
			importers := map[string][]string{}
			var deps []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Fields(line)
				deps = append(deps, f[0])
				for _, imp := range f[1:] {
					importers[imp] = append(importers[imp], f[0])
				}
			}
			for _, dep := range deps {
				if workerSide(dep) {
					t.Errorf("%s links %s (imported by %s)", bin, dep, strings.Join(importers[dep], ", "))
				}
			}
		})
	}
}

func workerSide(pkg string) bool {
	switch pkg {
	case "ces/workflows", "ces/activities", "ces/internal/provider", "go.temporal.io/sdk/worker":
		return true
	}
	return strings.HasPrefix(pkg, "ces/internal/provider/")
}
