package config

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/contrib/envconfig"

	"ces/internal/catalog"
	"ces/internal/tracing"
)

var update = flag.Bool("update", false, "rewrite the generated tables of docs/configuration.md from Variables()")

const configDoc = "../../docs/configuration.md"

// The markers around the generated part of docs/configuration.md.
const (
	docStart = "<!-- generated from internal/config/variables.go by `go test ./internal/config -update`; do not edit -->\n"
	docEnd   = "<!-- end generated -->\n"
)

// renderVariables renders Variables() as one Markdown table per section.
func renderVariables() string {
	var b strings.Builder
	vars := Variables()
	for i, s := range Sections {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n| variable | default | meaning |\n| --- | --- | --- |\n", s)
		for _, v := range vars {
			if v.Section != s {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", strings.Join(v.Names, "`, `"), v.Default, v.Meaning)
		}
	}
	return b.String()
}

// TestConfigurationDoc holds docs/configuration.md's tables to
// Variables(); -update rewrites them.
func TestConfigurationDoc(t *testing.T) {
	doc, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), docStart)
	if !ok {
		t.Fatalf("%s has no marker %q", configDoc, docStart)
	}
	_, after, ok := strings.Cut(rest, docEnd)
	if !ok {
		t.Fatalf("%s has no marker %q", configDoc, docEnd)
	}
	want := before + docStart + renderVariables() + docEnd + after
	if *update {
		if err := os.WriteFile(configDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("%s's tables differ from Variables(): run go test ./internal/config -update", configDoc)
	}
}

// TestVariablesAreWellFormed keeps every row one table row: a known
// section, names, a default and a meaning, no line break or bare pipe,
// and no name documented twice.
func TestVariablesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	name := regexp.MustCompile(`^[A-Z][A-Z0-9_]*(<[A-Z]+>[A-Z0-9_]*)?$`)
	for _, v := range Variables() {
		t.Run(strings.Join(v.Names, ","), func(t *testing.T) {
			if !slices.Contains(Sections, v.Section) {
				t.Errorf("section %q is not in Sections", v.Section)
			}
			if len(v.Names) == 0 || v.Default == "" || v.Meaning == "" {
				t.Errorf("names, default and meaning must all be given: %+v", v)
			}
			for _, n := range v.Names {
				if !name.MatchString(n) {
					t.Errorf("%q is not a variable name or a pattern such as FX_<KEY>_BASE_URL", n)
				}
				if seen[n] {
					t.Errorf("%s is documented twice", n)
				}
				seen[n] = true
			}
			for _, s := range []string{v.Default, v.Meaning} {
				if strings.ContainsAny(s, "\n|") {
					t.Errorf("%q holds a line break or a pipe, which break the table", s)
				}
			}
		})
	}
}

// tagVariables returns the env tag of every field of t, recursing into
// nested structs, with its envDefault when it has one.
func tagVariables(t reflect.Type, out map[string]string, defaults map[string]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" && f.Type.PkgPath() != "time" {
			tagVariables(f.Type, out, defaults)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = "env tag of " + t.Name() + "." + f.Name
		if d, ok := f.Tag.Lookup("envDefault"); ok {
			defaults[name] = d
		}
	}
}

// dynamicNames are the non-literal arguments the package passes to an
// environment lookup, each with the names it can be: a new one fails
// TestEveryVariableIsDocumented until it is added here and documented.
var dynamicNames = map[string]func() []string{
	// lookup's own body, and the SDK's lookup of a map: the name is the
	// caller's.
	"name": nil,
	// A keyed publisher's key (FX_API_KEY, FX_FRED_API_KEY).
	"pub.KeyEnv": func() []string {
		var out []string
		for _, p := range catalog.All() {
			if !p.Keyless() {
				out = append(out, p.KeyEnv)
			}
		}
		return out
	},
	// FX_<KEY>_BASE_URL of each catalogue publisher.
	"baseURLVar(p)":        baseURLNames,
	"baseURLVar(provider)": baseURLNames,
}

func baseURLNames() []string {
	var out []string
	for _, k := range catalog.Keys() {
		out = append(out, baseURLVar(k))
	}
	return out
}

// lookedUp returns the names the package's non-test files pass to
// os.Getenv, os.LookupEnv, Config.lookup or an envconfig lookup, as
// literals or through dynamicNames.
func lookedUp(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.SelectorExpr:
				fn = f.Sel.Name
				if x, ok := f.X.(*ast.Ident); ok && (x.Name == "os" || x.Name == "envconfig") {
					fn = x.Name + "." + fn
				}
			case *ast.Ident:
				fn = f.Name
			}
			switch fn {
			case "os.Getenv", "os.LookupEnv", "lookup", "LookupEnv":
			default:
				return true
			}
			where := fset.Position(call.Pos()).String()
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				out[s] = fn + " at " + where
				return true
			}
			expr := types.ExprString(call.Args[0])
			names, known := dynamicNames[expr]
			if !known {
				t.Errorf("%s: %s(%s): unknown variable name; document it and add %q to dynamicNames", where, fn, expr, expr)
				return true
			}
			if names != nil {
				for _, s := range names() {
					out[s] = fn + "(" + expr + ") at " + where
				}
			}
			return true
		})
	}
	return out
}

// recordingEnv is an empty environment that notes what the Temporal SDK
// asks of it.
type recordingEnv struct {
	looked  map[string]bool
	environ bool
	file    string
}

func (r *recordingEnv) Environ() []string { r.environ = true; return nil }

func (r *recordingEnv) LookupEnv(key string) (string, bool) {
	r.looked[key] = true
	if key == "TEMPORAL_CONFIG_FILE" {
		// Keep the test off the developer's own temporal CLI profile.
		return r.file, true
	}
	return "", false
}

// sdkVariables returns the TEMPORAL_* variables the SDK's envconfig reads
// when temporalconn.Options loads a client's options, as CES calls it.
func sdkVariables(t *testing.T) map[string]string {
	t.Helper()
	r := &recordingEnv{looked: map[string]bool{}, file: filepath.Join(t.TempDir(), "absent.toml")}
	if _, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: r}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k := range r.looked {
		out[k] = "the Temporal SDK's envconfig"
	}
	if r.environ {
		// It scans the environment for the TEMPORAL_GRPC_META_ prefix.
		out["TEMPORAL_GRPC_META_<NAME>"] = "the Temporal SDK's envconfig (a prefix)"
	}
	if len(out) < 10 {
		t.Fatalf("the SDK read only %v: has envconfig changed how it reads the environment?", out)
	}
	return out
}

// readVariables returns every variable CES reads, with where it is read.
func readVariables(t *testing.T) (read, defaults map[string]string) {
	t.Helper()
	read, defaults = map[string]string{}, map[string]string{}
	tagVariables(reflect.TypeOf(Config{}), read, defaults)
	tagVariables(reflect.TypeOf(Logins{}), read, defaults)
	for k, v := range lookedUp(t) {
		read[k] = v
	}
	for k, v := range sdkVariables(t) {
		read[k] = v
	}
	for _, k := range tracing.Variables {
		read[k] = "the OpenTelemetry SDK, through tracing.Setup"
	}
	return read, defaults
}

// patternRE turns a documented pattern such as FX_<KEY>_BASE_URL into a
// regular expression.
func patternRE(name string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.MustCompile(`<[A-Z]+>`).ReplaceAllString(regexp.QuoteMeta(name), `[A-Z0-9_]+`) + "$")
}

// documented reports whether name is in Variables(), by name or pattern.
func documented(name string) bool {
	for _, v := range Variables() {
		for _, n := range v.Names {
			if n == name || (strings.Contains(n, "<") && patternRE(n).MatchString(name)) {
				return true
			}
		}
	}
	return false
}

// TestEveryVariableIsDocumented: every variable CES reads (Config's and
// Logins' env tags, the package's lookups, the Temporal SDK's) is in
// Variables(), and every documented one is read.
func TestEveryVariableIsDocumented(t *testing.T) {
	read, _ := readVariables(t)
	names := make([]string, 0, len(read))
	for k := range read {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run("read/"+n, func(t *testing.T) {
			if !documented(n) {
				t.Errorf("%s (%s) is not documented: add it to Variables() in variables.go and run go test ./internal/config -update", n, read[n])
			}
		})
	}
	for _, v := range Variables() {
		for _, n := range v.Names {
			t.Run("documented/"+n, func(t *testing.T) {
				if _, ok := read[n]; ok {
					return
				}
				if strings.Contains(n, "<") {
					re := patternRE(n)
					for r := range read {
						if re.MatchString(r) {
							return
						}
					}
				}
				t.Errorf("%s is documented but nothing in CES reads it: remove it from Variables()", n)
			})
		}
	}
}

// TestBaseURLPatternIsRead shows the FX_<KEY>_BASE_URL family at work for
// a publisher without a field of its own: its override is read and
// checked under its own name.
func TestBaseURLPatternIsRead(t *testing.T) {
	for _, key := range []string{"boc", "boe"} {
		t.Run(key, func(t *testing.T) {
			name := baseURLVar(key)
			if !documented(name) {
				t.Fatalf("%s does not match a documented pattern", name)
			}
			_, err := LoadFrom(map[string]string{
				"DATABASE_URL": "postgres://127.0.0.1/ces", "REDIS_URL": "redis://127.0.0.1:6379/0",
				"FX_PROVIDERS": key, name: "ftp://mirror.example",
			})
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("LoadFrom with a bad %s: %v, want an error naming it", name, err)
			}
		})
	}
}

// TestDocumentedDefaultsMatchEnvDefault: where Config or Logins has an
// envDefault, the documented default starts with it in backticks.
func TestDocumentedDefaultsMatchEnvDefault(t *testing.T) {
	_, defaults := readVariables(t)
	for _, v := range Variables() {
		for _, n := range v.Names {
			d, ok := defaults[n]
			if !ok {
				continue
			}
			t.Run(n, func(t *testing.T) {
				if want := "`" + d + "`"; !strings.HasPrefix(v.Default, want) {
					t.Errorf("%s's documented default %q does not start with its envDefault %s", n, v.Default, want)
				}
			})
		}
	}
}

// composeOnly are the variables of .env.example that docker-compose.yml
// itself uses (the stack's passwords), which no CES process reads.
var composeOnly = []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD"}

// TestEnvExampleIsDocumented: every variable .env.example offers is
// documented, or one of docker-compose.yml's own.
func TestEnvExampleIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		t.Run(k, func(t *testing.T) {
			if !documented(k) && !slices.Contains(composeOnly, k) {
				t.Errorf(".env.example sets %s, which Variables() does not document", k)
			}
		})
	}
}
