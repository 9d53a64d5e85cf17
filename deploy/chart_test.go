package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/ces"

// base is the least a user gives: where Temporal is, and the secrets.
func base() map[string]any {
	return map[string]any{
		"temporal": map[string]any{"address": "temporal-frontend.temporal:7233"},
		"secrets": map[string]any{
			"dbOwner":         map[string]any{"url": "postgres://ces:owner@db:5432/ces", "apiPassword": "api-pw", "workerPassword": "worker-pw"},
			"dbAPI":           map[string]any{"url": "postgres://ces_api_ces:api-pw@db:5432/ces"},
			"dbWorker":        map[string]any{"url": "postgres://ces_worker_ces:worker-pw@db:5432/ces"},
			"redis":           map[string]any{"url": "redis://redis:6379/0"},
			"auditSigningKey": map[string]any{"pem": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"},
		},
	}
}

// with returns base with values merged over it.
func with(over map[string]any) map[string]any {
	return chartutil.CoalesceTables(over, base())
}

// valueSets are the configurations the chart is rendered with.
var valueSets = map[string]map[string]any{
	"defaults": base(),
	"a Redis Cluster": with(map[string]any{
		"redis":   map[string]any{"cluster": true},
		"secrets": map[string]any{"redis": map[string]any{"url": "rediss://:pw@clustercfg.ces.abc.euw1.cache.amazonaws.com:6379"}},
	}),
	"a Sentinel group": with(map[string]any{
		"redis":   map[string]any{"sentinelMaster": "mymaster"},
		"secrets": map[string]any{"redis": map[string]any{"url": "redis://:pw@sentinel-0.redis:26379/0?addr=sentinel-1.redis:26379", "sentinelPassword": "s-pw"}},
	}),
	"Temporal Cloud with an API key": with(map[string]any{
		"temporal":  map[string]any{"address": "eu-west-1.aws.api.temporal.io:7233", "namespace": "ces.a1b2c", "apiKey": true},
		"secrets":   map[string]any{"temporal": map[string]any{"apiKey": "cloud-key"}, "providers": map[string]any{"fxApiKey": "oxr-id", "fredApiKey": "fred-key"}},
		"providers": []any{"ecb", "cbn", "openexchangerates", "fred"},
	}),
	"Temporal Cloud with mutual TLS and existing secrets": with(map[string]any{
		"temporal": map[string]any{"address": "ces.a1b2c.tmprl.cloud:7233", "namespace": "ces.a1b2c", "mtls": true,
			"tls": map[string]any{"serverName": "ces.a1b2c.tmprl.cloud", "ca": true}},
		"secrets": map[string]any{
			"dbOwner": map[string]any{"existingSecret": "ces-db-owner", "url": ""}, "dbAPI": map[string]any{"existingSecret": "ces-db-api"},
			"dbWorker": map[string]any{"existingSecret": "ces-db-worker"}, "redis": map[string]any{"existingSecret": "ces-redis"},
			"auditSigningKey": map[string]any{"existingSecret": "ces-audit-key"}, "temporal": map[string]any{"existingSecret": "ces-temporal-mtls"},
		},
	}),
	"an install from before logins were per database": with(map[string]any{
		"dbLogins": map[string]any{"api": "ces_api", "worker": "ces_worker"},
		"secrets": map[string]any{
			"dbAPI":    map[string]any{"url": "postgres://ces_api:api-pw@db:5432/ces"},
			"dbWorker": map[string]any{"url": "postgres://ces_worker:worker-pw@db:5432/ces"},
		},
	}),
	"operators from a monitoring namespace, egress restricted, behind an ingress": with(map[string]any{
		"api": map[string]any{"adminPort": 9000, "trustedProxies": []any{"10.244.0.0/16", "10.96.0.10"}},
		"networkPolicy": map[string]any{
			"adminFrom": []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}}},
			"egress": []any{map[string]any{
				"to":    []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.20.0.0/16"}}},
				"ports": []any{map[string]any{"port": 5432}, map[string]any{"port": 6379}, map[string]any{"port": 7233}},
			}},
		},
	}),
	"monitoring: ServiceMonitor, PrometheusRule and dashboard": with(map[string]any{
		"monitoring": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
			"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
			"dashboard":      map[string]any{"enabled": true},
		},
	}),
	"no network policies": with(map[string]any{"networkPolicy": map[string]any{"enabled": false}}),
	"fixed replicas, one worker for both queues": with(map[string]any{
		"api":     map[string]any{"autoscaling": map[string]any{"enabled": false}, "podDisruptionBudget": map[string]any{"enabled": false}, "replicas": 3},
		"workers": []any{map[string]any{"name": "all", "queues": []any{"ingest", "audit"}, "replicas": 1, "resources": map[string]any{}}},
	}),
}

// render installs the chart client-side, as `helm template` does, and
// returns every object, hooks included, as JSON documents.
func render(t *testing.T, vals map[string]any) [][]byte {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = "ces", "ces"
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"}
	rel, err := install.Run(ch, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	manifests := rel.Manifest
	for _, h := range rel.Hooks {
		manifests += "\n---\n" + h.Manifest
	}
	var docs [][]byte
	for _, doc := range strings.Split(manifests, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "\n")) == "" || isComment(doc) {
			continue
		}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("yaml: %v\n%s", err, doc)
		}
		if string(js) != "null" {
			docs = append(docs, js)
		}
	}
	return docs
}

func isComment(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// objects is what a rendering holds, decoded strictly.
type objects struct {
	deployments map[string]*appsv1.Deployment
	jobs        map[string]*batchv1.Job
	secrets     map[string]*corev1.Secret
	configMaps  map[string]*corev1.ConfigMap
	services    map[string]*corev1.Service
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]*policyv1.PodDisruptionBudget
	pvcs        map[string]*corev1.PersistentVolumeClaim
	policies    map[string]*networkingv1.NetworkPolicy
	monitors    map[string]*monitoringv1.ServiceMonitor
	rules       map[string]*monitoringv1.PrometheusRule
}

// decode reads each document into its Kubernetes type, failing on a kind
// the test does not know and on any field the type does not have.
func decode(t *testing.T, docs [][]byte) objects {
	t.Helper()
	o := objects{deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{}, secrets: map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{}, services: map[string]*corev1.Service{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, pvcs: map[string]*corev1.PersistentVolumeClaim{},
		policies: map[string]*networkingv1.NetworkPolicy{}, monitors: map[string]*monitoringv1.ServiceMonitor{},
		rules: map[string]*monitoringv1.PrometheusRule{}}
	for _, js := range docs {
		var head struct{ APIVersion, Kind string }
		json.Unmarshal(js, &head)
		var target any
		var name func() string
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			v := &appsv1.Deployment{}
			target, name = v, func() string { o.deployments[v.Name] = v; return v.Name }
		case "batch/v1 Job":
			v := &batchv1.Job{}
			target, name = v, func() string { o.jobs[v.Name] = v; return v.Name }
		case "v1 Secret":
			v := &corev1.Secret{}
			target, name = v, func() string { o.secrets[v.Name] = v; return v.Name }
		case "v1 ConfigMap":
			v := &corev1.ConfigMap{}
			target, name = v, func() string { o.configMaps[v.Name] = v; return v.Name }
		case "v1 Service":
			v := &corev1.Service{}
			target, name = v, func() string { o.services[v.Name] = v; return v.Name }
		case "autoscaling/v2 HorizontalPodAutoscaler":
			v := &autoscalingv2.HorizontalPodAutoscaler{}
			target, name = v, func() string { o.hpas[v.Name] = v; return v.Name }
		case "policy/v1 PodDisruptionBudget":
			v := &policyv1.PodDisruptionBudget{}
			target, name = v, func() string { o.pdbs[v.Name] = v; return v.Name }
		case "v1 PersistentVolumeClaim":
			v := &corev1.PersistentVolumeClaim{}
			target, name = v, func() string { o.pvcs[v.Name] = v; return v.Name }
		case "networking.k8s.io/v1 NetworkPolicy":
			v := &networkingv1.NetworkPolicy{}
			target, name = v, func() string { o.policies[v.Name] = v; return v.Name }
		case "monitoring.coreos.com/v1 ServiceMonitor":
			v := &monitoringv1.ServiceMonitor{}
			target, name = v, func() string { o.monitors[v.Name] = v; return v.Name }
		case "monitoring.coreos.com/v1 PrometheusRule":
			v := &monitoringv1.PrometheusRule{}
			target, name = v, func() string { o.rules[v.Name] = v; return v.Name }
		default:
			t.Fatalf("an object of a kind the test does not check: %s %s", head.APIVersion, head.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target); err != nil {
			t.Fatalf("%s: %v\n%s", head.Kind, err, js)
		}
		name()
	}
	return o
}

func TestChartRendersValidObjects(t *testing.T) {
	for setName, vals := range valueSets {
		t.Run(setName, func(t *testing.T) {
			o := decode(t, render(t, vals))
			api := o.deployments["ces-api"]
			if api == nil {
				t.Fatalf("no API Deployment among %v", keys(o.deployments))
			}
			checkAPI(t, api, vals)
			for name, d := range o.deployments {
				checkPod(t, name, d.Spec.Template.Spec)
			}
			for name, j := range o.jobs {
				checkPod(t, name, j.Spec.Template.Spec)
			}
			checkWorkers(t, o, vals)
			checkJobs(t, o, vals)
			checkSecrets(t, o)
			checkTemporal(t, o, vals)
			checkListeners(t, o, vals)
			checkNetworkPolicies(t, o, vals)
			checkRedis(t, o, vals)
			checkMonitoring(t, o, vals)
		})
	}
}

func checkAPI(t *testing.T, api *appsv1.Deployment, vals map[string]any) {
	t.Helper()
	c := api.Spec.Template.Spec.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Fatalf("API probes: %+v %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	pre := c.Lifecycle.PreStop
	if pre == nil || pre.Sleep == nil || pre.Sleep.Seconds < 1 {
		t.Fatalf("API preStop: %+v", pre)
	}
	// The grace period covers the preStop delay and the API's 20 s drain.
	if g := *api.Spec.Template.Spec.TerminationGracePeriodSeconds; g < pre.Sleep.Seconds+20 {
		t.Fatalf("terminationGracePeriodSeconds %d < preStop %d + drain 20", g, pre.Sleep.Seconds)
	}
	if env(c, "DATABASE_URL").ValueFrom.SecretKeyRef.Name != secretFor(vals, "dbAPI", "ces-db-api") {
		t.Fatalf("the API's DATABASE_URL comes from %q", env(c, "DATABASE_URL").ValueFrom.SecretKeyRef.Name)
	}
}

// checkRedis: redis.cluster and redis.sentinelMaster reach every process
// through the ConfigMap, and the sentinels' password through the redis
// Secret.
func checkRedis(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	r, _ := vals["redis"].(map[string]any)
	cluster, _ := r["cluster"].(bool)
	master, _ := r["sentinelMaster"].(string)
	data := o.configMaps["ces"].Data
	if (data["REDIS_CLUSTER"] == "true") != cluster || data["REDIS_SENTINEL_MASTER"] != master {
		t.Fatalf("ConfigMap REDIS_CLUSTER=%q REDIS_SENTINEL_MASTER=%q for %v", data["REDIS_CLUSTER"], data["REDIS_SENTINEL_MASTER"], r)
	}
	c := o.deployments["ces-api"].Spec.Template.Spec.Containers[0]
	e := env(c, "REDIS_SENTINEL_PASSWORD")
	if (e != nil) != (master != "") || (e != nil && e.ValueFrom.SecretKeyRef.Key != "sentinel-password") {
		t.Fatalf("the API's REDIS_SENTINEL_PASSWORD: %+v", e)
	}
	if master != "" && string(o.secrets["ces-redis"].Data["sentinel-password"])+o.secrets["ces-redis"].StringData["sentinel-password"] != "s-pw" {
		t.Fatalf("the redis Secret lacks the sentinels' password: %+v", o.secrets["ces-redis"])
	}
}

func checkWorkers(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	queues := map[string]int{}
	for name, d := range o.deployments {
		if !strings.HasPrefix(name, "ces-worker-") {
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		served := strings.Split(env(c, "WORKER_QUEUES").Value, ",")
		for _, q := range served {
			queues[q]++
		}
		signs := env(c, "AUDIT_SIGNING_KEY_FILE") != nil
		mountsKey := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "signing-key" })
		if audit := slices.Contains(served, "audit"); audit != signs || audit != mountsKey {
			t.Fatalf("%s serves %v: signing key set %v, mounted %v (only audit workers hold it)", name, served, signs, mountsKey)
		}
	}
	if queues["ingest"] != 1 || queues["audit"] != 1 {
		t.Fatalf("queues served by the worker Deployments: %v, want ingest and audit once each", queues)
	}
}

func checkJobs(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	migrate, schedule := o.jobs["ces-migrate"], o.jobs["ces-schedule"]
	if migrate == nil || schedule == nil {
		t.Fatalf("jobs: %v", keys(o.jobs))
	}
	if h := migrate.Annotations["helm.sh/hook"]; h != "pre-install,pre-upgrade" {
		t.Fatalf("migrate hook %q", h)
	}
	if h := schedule.Annotations["helm.sh/hook"]; h != "post-install,post-upgrade" {
		t.Fatalf("schedule hook %q", h)
	}
	if args := migrate.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, []string{"migrate"}) {
		t.Fatalf("migrate args %v", args)
	}
	// The owner's credentials reach the migration alone.
	owner := env(migrate.Spec.Template.Spec.Containers[0], "DATABASE_URL").ValueFrom.SecretKeyRef.Name
	for name, d := range o.deployments {
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == owner {
				t.Fatalf("%s reads the owner's secret %s", name, owner)
			}
		}
	}
	if sec := o.secrets[owner]; sec != nil && sec.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
		t.Fatalf("the owner's secret must exist before the migration hook: %v", sec.Annotations)
	}
	// The logins' names reach the migration when given; otherwise it
	// derives them from the database's name.
	named, _ := vals["dbLogins"].(map[string]any)
	for key, variable := range map[string]string{"api": "CES_API_DB_LOGIN", "worker": "CES_WORKER_DB_LOGIN"} {
		e, want := env(migrate.Spec.Template.Spec.Containers[0], variable), named[key]
		if want == nil && e != nil || want != nil && (e == nil || e.Value != want) {
			t.Fatalf("migrate %s = %+v, want %v", variable, e, want)
		}
	}
}

func checkSecrets(t *testing.T, o objects) {
	t.Helper()
	for name, cm := range o.configMaps {
		for k, v := range cm.Data {
			if strings.Contains(v, "postgres://") || strings.Contains(strings.ToLower(k), "password") || strings.Contains(v, "PRIVATE KEY") {
				t.Fatalf("ConfigMap %s holds a secret in %s", name, k)
			}
		}
	}
}

func checkTemporal(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	temporal := vals["temporal"].(map[string]any)
	cm := o.configMaps["ces"].Data
	if cm["TEMPORAL_ADDRESS"] != temporal["address"] {
		t.Fatalf("TEMPORAL_ADDRESS %q", cm["TEMPORAL_ADDRESS"])
	}
	api := o.deployments["ces-api"].Spec.Template.Spec
	if temporal["mtls"] == true {
		if cm["TEMPORAL_TLS_CLIENT_CERT_PATH"] != "/etc/ces/temporal/tls.crt" || cm["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] != "/etc/ces/temporal/ca.crt" || cm["TEMPORAL_TLS_SERVER_NAME"] == "" {
			t.Fatalf("mutual TLS settings: %v", cm)
		}
		if !slices.ContainsFunc(api.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == "ces-temporal-mtls" }) {
			t.Fatalf("the client certificate is not mounted: %v", api.Volumes)
		}
	}
	if temporal["apiKey"] == true {
		if e := env(api.Containers[0], "TEMPORAL_API_KEY"); e == nil || e.ValueFrom.SecretKeyRef.Key != "api-key" {
			t.Fatal("TEMPORAL_API_KEY is not read from the temporal secret")
		}
	}
	// Each keyed provider listed gets its key from the providers secret.
	providers, _ := vals["providers"].([]any) // unset: the chart's own list, no keyed provider
	for provider, want := range map[string][2]string{"openexchangerates": {"FX_API_KEY", "fx-api-key"}, "fred": {"FX_FRED_API_KEY", "fred-api-key"}} {
		if !slices.Contains(providers, any(provider)) {
			continue
		}
		if e := env(api.Containers[0], want[0]); e == nil || e.ValueFrom.SecretKeyRef.Key != want[1] {
			t.Fatalf("%s (for %s) is not read from the providers secret's %s", want[0], provider, want[1])
		}
	}
}

func checkPod(t *testing.T, name string, spec corev1.PodSpec) {
	t.Helper()
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Fatalf("%s may run as root", name)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Fatalf("%s mounts a service account token it never uses", name)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Fatalf("%s/%s: security context %+v", name, c.Name, sc)
		}
		if c.Resources.Requests == nil {
			t.Fatalf("%s/%s has no resource requests", name, c.Name)
		}
	}
}

func env(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// secretFor is the Secret a concern uses under vals.
func secretFor(vals map[string]any, key, chartName string) string {
	if s, ok := vals["secrets"].(map[string]any)[key].(map[string]any); ok {
		if name, _ := s["existingSecret"].(string); name != "" {
			return name
		}
	}
	return chartName
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestChartRefusesWithoutTemporal: the one value without a default.
func TestChartRefusesWithoutTemporal(t *testing.T) {
	vals := base()
	vals["temporal"] = map[string]any{}
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.ReleaseName = true, true, "ces"
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"}
	if _, err := install.Run(ch, vals); err == nil || !strings.Contains(err.Error(), "temporal.address is required") {
		t.Fatalf("err = %v", err)
	}
}

// TestHelmLint is `helm lint` on the chart, for every value set.
func TestHelmLint(t *testing.T) {
	for setName, vals := range valueSets {
		t.Run(setName, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true
			res := lint.Run([]string{chartDir}, vals)
			var problems []string
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					problems = append(problems, fmt.Sprint(m))
				}
			}
			for _, err := range res.Errors {
				problems = append(problems, err.Error())
			}
			if len(problems) > 0 {
				t.Fatalf("helm lint:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// TestChartRefusesMissingSecrets: a Secret a pod needs, neither named nor
// given, fails the rendering with its name, not a pod at run time.
func TestChartRefusesMissingSecrets(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		over map[string]any
		want string
	}{
		{"redis", map[string]any{"secrets": map[string]any{"redis": map[string]any{"url": ""}}}, "secrets.redis"},
		{"the owner", map[string]any{"secrets": map[string]any{"dbOwner": map[string]any{"url": ""}}}, "secrets.dbOwner"},
		{"the signing key", map[string]any{"secrets": map[string]any{"auditSigningKey": map[string]any{"pem": ""}}}, "secrets.auditSigningKey"},
		{"the provider key", map[string]any{"providers": []any{"openexchangerates"}}, "secrets.providers"},
		{"FRED's key", map[string]any{"providers": []any{"ecb", "fred"}}, "fredApiKey"},
		{"the client certificate", map[string]any{"temporal": map[string]any{"mtls": true}}, "secrets.temporal.tlsCrt"},
		{"the API key", map[string]any{"temporal": map[string]any{"apiKey": true}}, "secrets.temporal.apiKey"},
		// Not a secret, but refused the same way: the console on the public port.
		{"the admin port on the public port", map[string]any{"api": map[string]any{"adminPort": 8000}}, "api.adminPort must differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			install := action.NewInstall(&action.Configuration{})
			install.DryRun, install.ClientOnly, install.ReleaseName = true, true, "ces"
			install.KubeVersion = &chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"}
			if _, err := install.Run(ch, with(tt.over)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// port is the named container port of c; 0 when it has none.
func port(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// checkListeners: the API listens on the public port (HTTP_ADDR) and the
// admin port (ADMIN_ADDR); the public Service reaches the first only, a
// Service of its own the second.
func checkListeners(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	c := o.deployments["ces-api"].Spec.Template.Spec.Containers[0]
	cm := o.configMaps["ces"].Data
	http, admin := port(c, "http"), port(c, "admin")
	if http == 0 || admin == 0 || http == admin || len(c.Ports) != 2 {
		t.Fatalf("API container ports %+v", c.Ports)
	}
	if cm["HTTP_ADDR"] != fmt.Sprintf("0.0.0.0:%d", http) || cm["ADMIN_ADDR"] != fmt.Sprintf("0.0.0.0:%d", admin) {
		t.Fatalf("HTTP_ADDR %q and ADMIN_ADDR %q, container ports %d and %d", cm["HTTP_ADDR"], cm["ADMIN_ADDR"], http, admin)
	}
	if api, _ := vals["api"].(map[string]any); api != nil && api["adminPort"] != nil && fmt.Sprint(admin) != fmt.Sprint(api["adminPort"]) {
		t.Fatalf("admin port %d, values say %v", admin, api["adminPort"])
	}
	var proxies []string
	if api, _ := vals["api"].(map[string]any); api != nil {
		list, _ := api["trustedProxies"].([]any)
		for _, p := range list {
			proxies = append(proxies, p.(string))
		}
	}
	if cm["TRUSTED_PROXIES"] != strings.Join(proxies, ",") {
		t.Fatalf("TRUSTED_PROXIES %q, want %q", cm["TRUSTED_PROXIES"], strings.Join(proxies, ","))
	}
	public, adminSvc := o.services["ces-api"], o.services["ces-api-admin"]
	if public == nil || adminSvc == nil {
		t.Fatalf("services: %v", keys(o.services))
	}
	for _, tt := range []struct {
		svc  *corev1.Service
		want string
	}{{public, "http"}, {adminSvc, "admin"}} {
		if len(tt.svc.Spec.Ports) != 1 || tt.svc.Spec.Ports[0].TargetPort.StrVal != tt.want {
			t.Fatalf("Service %s targets %+v, want the %s port alone", tt.svc.Name, tt.svc.Spec.Ports, tt.want)
		}
		if !labels.SelectorFromSet(tt.svc.Spec.Selector).Matches(labels.Set(o.deployments["ces-api"].Spec.Template.Labels)) {
			t.Fatalf("Service %s does not select the API's pods", tt.svc.Name)
		}
	}
}

// admitted is what the policies selecting pods with podLabels admit: by
// port name, the peers (nil: anywhere); and whether any policy selects them.
func admitted(t *testing.T, o objects, podLabels map[string]string) (map[string][]networkingv1.NetworkPolicyPeer, bool) {
	t.Helper()
	out := map[string][]networkingv1.NetworkPolicyPeer{}
	selected := false
	for name, p := range o.policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", name, err)
		}
		if !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		selected = true
		if !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			t.Fatalf("NetworkPolicy %s does not restrict ingress", name)
		}
		for _, rule := range p.Spec.Ingress {
			if len(rule.Ports) == 0 {
				t.Fatalf("NetworkPolicy %s admits every port: %+v", name, rule)
			}
			for _, rp := range rule.Ports {
				if rp.Port == nil || rp.Port.StrVal == "" {
					t.Fatalf("NetworkPolicy %s names a port by number or not at all: %+v", name, rp)
				}
				if _, seen := out[rp.Port.StrVal]; seen {
					t.Fatalf("port %s is admitted twice for %v", rp.Port.StrVal, podLabels)
				}
				out[rp.Port.StrVal] = rule.From
			}
		}
	}
	return out, selected
}

// checkNetworkPolicies: every pod is admitted only what it serves: the
// API's public port from anywhere and its admin port from adminFrom, each
// worker's metrics port from adminFrom, nothing to the Jobs. Egress is
// restricted exactly when rules are given, and then DNS is allowed.
func checkNetworkPolicies(t *testing.T, o objects, vals map[string]any) {
	t.Helper()
	np, _ := vals["networkPolicy"].(map[string]any)
	if np != nil && np["enabled"] == false {
		if len(o.policies) != 0 {
			t.Fatalf("networkPolicy.enabled is false, yet: %v", keys(o.policies))
		}
		return
	}
	adminFrom := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	if np != nil && np["adminFrom"] != nil {
		b, _ := json.Marshal(np["adminFrom"])
		adminFrom = nil
		if err := json.Unmarshal(b, &adminFrom); err != nil {
			t.Fatal(err)
		}
	}
	samePeers := func(a, b []networkingv1.NetworkPolicyPeer) bool {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return string(ja) == string(jb)
	}
	pods := map[string]map[string]string{}
	for name, d := range o.deployments {
		pods[name] = d.Spec.Template.Labels
	}
	for name, j := range o.jobs {
		pods[name] = j.Spec.Template.Labels
	}
	for name, podLabels := range pods {
		got, selected := admitted(t, o, podLabels)
		if !selected {
			t.Fatalf("no NetworkPolicy selects %s's pods", name)
		}
		var want map[string][]networkingv1.NetworkPolicyPeer
		switch {
		case name == "ces-api":
			want = map[string][]networkingv1.NetworkPolicyPeer{"http": nil, "admin": adminFrom}
		case strings.HasPrefix(name, "ces-worker-"):
			want = map[string][]networkingv1.NetworkPolicyPeer{"metrics": adminFrom}
		default:
			want = map[string][]networkingv1.NetworkPolicyPeer{}
		}
		if len(got) != len(want) {
			t.Fatalf("%s is admitted on ports %v, want %v", name, got, want)
		}
		for p, peers := range want {
			from, ok := got[p]
			if !ok || !samePeers(from, peers) {
				t.Fatalf("%s port %s admits %+v, want %+v", name, p, from, peers)
			}
		}
		if name == "ces-api" || strings.HasPrefix(name, "ces-worker-") {
			c := o.deployments[name].Spec.Template.Spec.Containers[0]
			for p := range want {
				if port(c, p) == 0 {
					t.Fatalf("%s's policy names port %s, which its container does not have", name, p)
				}
			}
		}
	}
	restricted := np != nil && np["egress"] != nil && len(np["egress"].([]any)) > 0
	for name, p := range o.policies {
		if hasEgress := slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress); hasEgress != restricted {
			t.Fatalf("NetworkPolicy %s restricts egress: %v, want %v", name, hasEgress, restricted)
		}
		if restricted && (len(p.Spec.Egress) < 2 || p.Spec.Egress[0].Ports[0].Port.IntVal != 53) {
			t.Fatalf("NetworkPolicy %s: egress %+v, want DNS and the given rules", name, p.Spec.Egress)
		}
	}
}
