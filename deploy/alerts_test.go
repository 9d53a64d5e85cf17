package deploy

import (
	"encoding/json"
	"flag"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var update = flag.Bool("update", false, "rewrite prometheus/metrics.txt from the rules and the dashboard")

const (
	rulesFile     = "prometheus/ces-alerts.yml"
	dashboardFile = "grafana/ces-dashboard.json"
	// metricsFile lists every metric name the rules and the dashboard
	// read; the README test (readme_test.go) checks each against the live
	// API's and worker's /metrics.
	metricsFile = "prometheus/metrics.txt"
)

// parseRules reads the rules as Prometheus does, unknown fields refused.
func parseRules(t *testing.T) (*rulefmt.RuleGroups, []error) {
	t.Helper()
	return rulefmt.ParseFile(rulesFile, false, model.LegacyValidation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
}

// expressions returns every PromQL expression of the rules and the
// dashboard, each with where it comes from.
func expressions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	groups, errs := parseRules(t)
	for _, err := range errs {
		t.Errorf("%s: %v", rulesFile, err)
	}
	if groups == nil {
		t.FailNow()
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("%s: group %s has a rule that is not an alert", rulesFile, g.Name)
			}
			out[rulesFile+" "+r.Alert] = r.Expr
		}
	}
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", dashboardFile, p.Title)
		}
		for i, tg := range p.Targets {
			out[dashboardFile+" "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
		}
	}
	return out
}

// scrapeJobs are the job names the chart's ServiceMonitor gives the
// targets of each port (the API's admin port, the workers' metrics port),
// which docs/alerts.md's scrape config gives them too: the alerts on up
// select CES's targets by them.
var scrapeJobs = map[string]string{"admin": "ces-api", "metrics": "ces-worker"}

// checkUpSelector reports an up selector that does not pick CES's targets
// by their job names alone: without a job matcher it would alert on every
// target Prometheus scrapes.
func checkUpSelector(t *testing.T, where string, vs *parser.VectorSelector) {
	t.Helper()
	known := slices.Collect(maps.Values(scrapeJobs))
	matchers := 0
	for _, m := range vs.LabelMatchers {
		if m.Name != "job" {
			continue
		}
		matchers++
		if m.Type != labels.MatchEqual && m.Type != labels.MatchRegexp {
			t.Errorf("%s: %s matches job with %s: name the jobs with = or =~", where, vs, m.Type)
			continue
		}
		for _, job := range strings.Split(m.Value, "|") {
			if !slices.Contains(known, job) {
				t.Errorf("%s: %s names job %q, not one of the scrape jobs %v", where, vs, job, scrapeJobs)
			}
		}
	}
	if matchers == 0 {
		t.Errorf("%s: %s selects every target, not CES's: give it a job", where, vs)
	}
}

// metricNames parses each expression and collects the metric names its
// selectors name; up, which Prometheus itself writes for every target,
// is checked for its job instead of listed.
func metricNames(t *testing.T, exprs map[string]string) []string {
	t.Helper()
	seen := map[string]bool{}
	p := parser.NewParser(parser.Options{})
	for where, e := range exprs {
		expr, err := p.ParseExpr(e)
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, e)
			continue
		}
		found := 0
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				found++
				switch vs.Name {
				case "":
					t.Errorf("%s: a selector without a metric name: %s", where, vs)
				case "up":
					checkUpSelector(t, where, vs)
					return nil
				}
				seen[vs.Name] = true
			}
			return nil
		})
		if found == 0 {
			t.Errorf("%s reads no metric: %s", where, e)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestAlertsAndDashboardNameKnownMetrics(t *testing.T) {
	names := metricNames(t, expressions(t))
	for _, n := range names {
		if !strings.HasPrefix(n, "ces_") {
			t.Errorf("%s is not a CES metric", n)
		}
	}
	want := "# Metric names read by ces-alerts.yml and ../grafana/ces-dashboard.json,\n" +
		"# written by deploy's tests (go test -update) and checked against the live\n" +
		"# /metrics of the API and the worker by the README test.\n" +
		strings.Join(names, "\n") + "\n"
	if *update {
		if err := os.WriteFile(metricsFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date: run go test ./deploy -run TestAlertsAndDashboard -update\ngot:\n%s\nwant:\n%s", metricsFile, got, want)
	}
}

// heading finds a Markdown heading.
var heading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)

// githubAnchor is the id GitHub gives a heading, as docs_test.go makes it.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestAlertsHaveSeverityAndRunbook(t *testing.T) {
	groups, errs := parseRules(t)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				if s := r.Labels["severity"]; s != "critical" && s != "warning" {
					t.Errorf("severity %q, want critical or warning", s)
				}
				if r.Annotations["summary"] == "" {
					t.Error("no summary")
				}
				doc, frag, ok := strings.Cut(r.Annotations["runbook_url"], "#")
				if !ok || !strings.HasPrefix(doc, "docs/") {
					t.Fatalf("runbook_url %q is not docs/<file>.md#<section>", r.Annotations["runbook_url"])
				}
				text, err := os.ReadFile(filepath.Join("..", doc))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, m := range heading.FindAllStringSubmatch(string(text), -1) {
					ids = append(ids, githubAnchor(strings.TrimSpace(m[1])))
				}
				if !slices.Contains(ids, frag) {
					t.Errorf("%s has no section #%s", doc, frag)
				}
			})
		}
	}
}
