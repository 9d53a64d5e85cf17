package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// chartCopies are the files the chart embeds, each a copy of the one
// source of truth outside the chart (Helm reads only the chart's own
// directory and ignores symlinks out of it).
var chartCopies = map[string]string{
	rulesFile:     chartDir + "/files/ces-alerts.yml",
	dashboardFile: chartDir + "/files/ces-dashboard.json",
}

func TestChartCopiesAreCurrent(t *testing.T) {
	for src, dst := range chartCopies {
		t.Run(filepath.Base(src), func(t *testing.T) {
			want, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(dst, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s: cp %s %s (or go test -update)", dst, src, src, dst)
			}
		})
	}
}

// jobOf is the job name an endpoint's relabelings give its targets, ""
// when they keep the default (the Service's name).
func jobOf(e monitoringv1.Endpoint) string {
	job := ""
	for _, r := range e.RelabelConfigs {
		if r.TargetLabel == "job" && (r.Action == "" || r.Action == "replace") && len(r.SourceLabels) == 0 && r.Replacement != nil {
			job = *r.Replacement
		}
	}
	return job
}

func enabled(vals map[string]any, what string) bool {
	m, _ := vals["monitoring"].(map[string]any)
	w, _ := m[what].(map[string]any)
	on, _ := w["enabled"].(bool)
	return on
}

// checkMonitoring: each monitoring object exists only when asked for; the
// ServiceMonitor reaches the API's admin port and every worker's metrics
// port; the PrometheusRule holds ces-alerts.yml's groups; the dashboard
// ConfigMap holds the dashboard.
func checkMonitoring(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	if on := enabled(vals, "serviceMonitor"); on != (len(o.monitors) == 1) {
		t.Errorf("serviceMonitor.enabled %v, ServiceMonitors %v", on, keys(o.monitors))
	}
	for _, sm := range o.monitors {
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		ports := map[string]bool{}
		for _, e := range sm.Spec.Endpoints {
			ports[e.Port] = true
			if e.Path != "/metrics" {
				t.Errorf("endpoint %s scrapes %s", e.Port, e.Path)
			}
			if job := jobOf(e); job != scrapeJobs[e.Port] {
				t.Errorf("endpoint %s's targets get job %q, the alerts on up select %q", e.Port, job, scrapeJobs[e.Port])
			}
		}
		// Every Deployment's metrics port is reached by a selected Service.
		reached := map[string]bool{}
		for _, svc := range o.services {
			if !sel.Matches(labels.Set(svc.Labels)) {
				continue
			}
			for _, p := range svc.Spec.Ports {
				if !ports[p.Name] {
					continue
				}
				for name, d := range o.deployments {
					if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
						for _, c := range d.Spec.Template.Spec.Containers {
							for _, cp := range c.Ports {
								if cp.Name == p.TargetPort.StrVal {
									reached[name] = true
								}
							}
						}
					}
				}
			}
		}
		for name := range o.deployments {
			if !reached[name] {
				t.Errorf("the ServiceMonitor does not scrape %s", name)
			}
		}
		if sm.Labels["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor labels %v lack monitoring.serviceMonitor.labels", sm.Labels)
		}
	}
	if on := enabled(vals, "prometheusRule"); on != (len(o.rules) == 1) {
		t.Errorf("prometheusRule.enabled %v, PrometheusRules %v", on, keys(o.rules))
	}
	for _, r := range o.rules {
		src, err := os.ReadFile(rulesFile)
		if err != nil {
			t.Fatal(err)
		}
		want, err := yaml.YAMLToJSON(src)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(r.Spec)
		if !jsonEqual(t, got, want) {
			t.Errorf("the PrometheusRule's spec is not %s:\n%s", rulesFile, got)
		}
	}
	dash, ok := o.configMaps["ces-dashboard"]
	if on := enabled(vals, "dashboard"); on != ok {
		t.Errorf("dashboard.enabled %v, dashboard ConfigMap %v", on, ok)
	}
	if ok {
		want, err := os.ReadFile(dashboardFile)
		if err != nil {
			t.Fatal(err)
		}
		if dash.Data["ces-dashboard.json"] != string(want) {
			t.Errorf("the dashboard ConfigMap does not hold %s", dashboardFile)
		}
		if dash.Labels["grafana_dashboard"] != "1" {
			t.Errorf("dashboard labels %v", dash.Labels)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
