package config

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// envKeys lists every variable Config reads, and which are required.
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
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
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
