package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"ces/internal/catalog"
)

// envKeys lists every variable Config reads (its fields and the keyed
// publishers' keys), and which are required.
func envKeys() (all []string, required map[string]bool) {
	required = map[string]bool{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("env")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		all = append(all, name)
		if strings.Contains(opts, "required") {
			required[name] = true
		}
	}
	// The keyed publishers' keys are read by name from the catalogue
	// (FX_FRED_API_KEY), not through a field.
	for _, p := range catalog.All() {
		if !p.Keyless() && !slices.Contains(all, p.KeyEnv) {
			all = append(all, p.KeyEnv)
		}
	}
	sort.Strings(all)
	return all, required
}

// missing returns the variables env lacks: every variable must be set or
// deliberately empty, and required ones must have a value.
func missing(env map[string]string) []string {
	all, required := envKeys()
	var out []string
	for _, k := range all {
		v, ok := env[k]
		if !ok || (required[k] && v == "") {
			out = append(out, k)
		}
	}
	return out
}

func TestMissingNamesAbsentAndEmptyRequiredVariables(t *testing.T) {
	all, _ := envKeys()
	env := map[string]string{}
	for _, k := range all {
		env[k] = "x"
	}
	if m := missing(env); len(m) != 0 {
		t.Fatalf("complete environment reported missing %v", m)
	}
	delete(env, "FX_PROVIDER")
	env["DATABASE_URL"] = ""
	if m := strings.Join(missing(env), ","); m != "DATABASE_URL,FX_PROVIDER" {
		t.Fatalf("missing = %s", m)
	}
}

// TestComposeFile validates docker-compose.yml with Debian's
// docker-compose and checks that each CES service gets every variable the
// config package reads.
func TestComposeFile(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose is not installed (make test installs it with apt)")
		}
		t.Skip("docker-compose is not installed")
	}
	out, err := exec.Command(bin, "--env-file", "../../.env.example", "-f", "../../docker-compose.yml", "config").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var doc struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("parse the resolved compose file: %v", err)
	}
	for _, svc := range []string{"ces-migrate", "ces-worker", "ces-api", "ces-schedule", "ces-verify-audit"} {
		s, ok := doc.Services[svc]
		if !ok {
			t.Errorf("service %s is missing", svc)
			continue
		}
		if m := missing(s.Environment); len(m) > 0 {
			t.Errorf("service %s lacks %v", svc, m)
		}
	}
	// The signing key is the worker's alone.
	if doc.Services["ces-worker"].Environment["AUDIT_SIGNING_KEY_FILE"] == "" || doc.Services["ces-api"].Environment["AUDIT_SIGNING_KEY_FILE"] != "" {
		t.Errorf("AUDIT_SIGNING_KEY_FILE: worker %q, api %q; want it set for the worker only",
			doc.Services["ces-worker"].Environment["AUDIT_SIGNING_KEY_FILE"], doc.Services["ces-api"].Environment["AUDIT_SIGNING_KEY_FILE"])
	}
	// The services connect as the logins ces-migrate makes, and only the
	// migration runs as the owner.
	migrate := doc.Services["ces-migrate"].Environment
	for svc, login := range map[string]string{"ces-api": migrate["CES_API_DB_LOGIN"], "ces-worker": migrate["CES_WORKER_DB_LOGIN"], "ces-verify-audit": migrate["CES_WORKER_DB_LOGIN"]} {
		u, err := url.Parse(doc.Services[svc].Environment["DATABASE_URL"])
		if err != nil {
			t.Errorf("service %s: DATABASE_URL: %v", svc, err)
		} else if login == "" || u.User.Username() != login {
			t.Errorf("service %s connects as %q, ces-migrate makes %q", svc, u.User.Username(), login)
		}
	}
	checkComposeEdge(t, doc.Services)
	// Without .env the file refuses to start rather than run without a password.
	compose, err := filepath.Abs("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--project-directory", t.TempDir(), "-f", compose, "config", "-q")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "POSTGRES_PASSWORD") {
		t.Errorf("compose without POSTGRES_PASSWORD: err %v, output %s", err, out)
	}
}

// composeService is what the compose tests read of one resolved service.
type composeService struct {
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	// Ports are short strings ("127.0.0.1:8081:8081/tcp") or, for a
	// binding without an address, the long form; docker-compose versions
	// differ in which they print.
	Ports []any `yaml:"ports"`
}

// binding is one published port.
type binding struct {
	hostIP          string
	published, port string
}

func (s composeService) bindings(t *testing.T) []binding {
	t.Helper()
	var out []binding
	for _, p := range s.Ports {
		switch v := p.(type) {
		case string:
			parts := strings.Split(strings.TrimSuffix(strings.TrimSuffix(v, "/tcp"), "/udp"), ":")
			switch len(parts) {
			case 3:
				out = append(out, binding{hostIP: parts[0], published: parts[1], port: parts[2]})
			case 2:
				out = append(out, binding{published: parts[0], port: parts[1]})
			default:
				out = append(out, binding{port: parts[0]})
			}
		case map[string]any:
			ip, _ := v["host_ip"].(string)
			out = append(out, binding{hostIP: ip, published: fmt.Sprint(v["published"]), port: fmt.Sprint(v["target"])})
		default:
			t.Fatalf("a port of an unknown form: %#v", p)
		}
	}
	return out
}

// checkComposeEdge: of everything the compose file publishes, only the
// public API listens beyond this machine; the admin console, /metrics and
// the Temporal UI (which can start and cancel workflows) are bound to
// 127.0.0.1. Redis asks for a password, and every CES service's REDIS_URL
// carries it.
func checkComposeEdge(t *testing.T, services map[string]composeService) {
	t.Helper()
	api := services["ces-api"]
	_, publicPort, err := net.SplitHostPort(api.Environment["HTTP_ADDR"])
	if err != nil {
		t.Fatalf("ces-api HTTP_ADDR %q", api.Environment["HTTP_ADDR"])
	}
	_, adminPort, err := net.SplitHostPort(api.Environment["ADMIN_ADDR"])
	if err != nil || adminPort == publicPort {
		t.Fatalf("ces-api ADMIN_ADDR %q beside HTTP_ADDR %q", api.Environment["ADMIN_ADDR"], api.Environment["HTTP_ADDR"])
	}
	adminPublished := false
	for name, svc := range services {
		for _, b := range svc.bindings(t) {
			if name == "ces-api" && b.port == publicPort {
				continue // the public API
			}
			if b.hostIP != "127.0.0.1" {
				t.Errorf("%s publishes port %s on %q, want 127.0.0.1 only", name, b.port, b.hostIP)
			}
			if name == "ces-api" && b.port == adminPort {
				adminPublished = true
			}
		}
	}
	if !adminPublished {
		t.Errorf("ces-api does not publish ADMIN_ADDR's port %s on 127.0.0.1", adminPort)
	}
	if len(services["temporal-ui"].bindings(t)) == 0 {
		t.Error("the Temporal UI is not published at all (the README links it)")
	}

	redis := services["redis"]
	i := slices.Index(redis.Command, "--requirepass")
	if i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] == "" {
		t.Fatalf("redis runs without --requirepass: %v", redis.Command)
	}
	password := redis.Command[i+1]
	if redis.Environment["REDISCLI_AUTH"] != password {
		t.Error("the redis healthcheck's REDISCLI_AUTH is not the password redis asks for")
	}
	for _, name := range []string{"ces-migrate", "ces-worker", "ces-api", "ces-schedule", "ces-verify-audit"} {
		u, err := url.Parse(services[name].Environment["REDIS_URL"])
		if err != nil {
			t.Errorf("%s REDIS_URL does not parse", name)
			continue
		}
		if got, ok := u.User.Password(); !ok || got != password {
			t.Errorf("%s REDIS_URL does not carry the password redis asks for", name)
		}
	}
}
