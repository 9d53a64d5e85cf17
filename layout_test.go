package ces_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestWhereThingsLive holds docs/development.md's "Where things live" table to the
// tree: every directory it names holds Go code, and every Go package of
// the module is named by a row (dir/* names every package under dir).
func TestWhereThingsLive(t *testing.T) {
	readme, err := os.ReadFile("docs/development.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Where things live\n")
	if !ok {
		t.Fatal(`docs/development.md has no "## Where things live" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var named []string
	cell := regexp.MustCompile("`([a-z][a-z0-9/*]*)`")
	for _, line := range strings.Split(section, "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 4 || strings.HasPrefix(strings.TrimSpace(cols[1]), "---") || strings.TrimSpace(cols[1]) == "Concern" {
			continue
		}
		for _, m := range cell.FindAllStringSubmatch(cols[2], -1) {
			named = append(named, m[1])
		}
	}
	if len(named) == 0 {
		t.Fatal("the section's table names no package")
	}
	packages := goPackages(t)
	for _, n := range named {
		t.Run(n, func(t *testing.T) {
			if dir, ok := strings.CutSuffix(n, "/*"); ok {
				if !slices.ContainsFunc(packages, func(p string) bool { return strings.HasPrefix(p, dir+"/") }) {
					t.Errorf("docs/development.md names %s, but %s has no Go package below it", n, dir)
				}
				return
			}
			if !slices.Contains(packages, n) {
				t.Errorf("docs/development.md names %s, which is not a Go package of the tree", n)
			}
		})
	}
	for _, p := range packages {
		covered := slices.ContainsFunc(named, func(n string) bool {
			dir, wild := strings.CutSuffix(n, "/*")
			return n == p || wild && strings.HasPrefix(p, dir+"/")
		})
		if !covered {
			t.Errorf("package %s is in no row of docs/development.md's \"Where things live\" table", p)
		}
	}
}

// goPackages lists the directories, relative to the module root, that
// hold Go files other than tests (the root's own package is the README
// test), skipping testdata, hidden directories and build output.
func goPackages(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." {
				seen[dir] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for dir := range seen {
		out = append(out, dir)
	}
	slices.Sort(out)
	return out
}
