package testenv

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"ces/internal/replay"
)

// Replay serves the recordings of publishers, read from the testdata
// folder, as the offline demo's stand-in does, with crafted copies
// served in place of the originals they name (crafted maps an original's
// path to its copy's, both relative to testdata), and returns each
// publisher's base URL (FX_<KEY>_BASE_URL), by key. The originals are
// never changed: the stand-in serves a private copy of the folder.
func Replay(t testing.TB, testdata string, publishers []string, crafted map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for _, key := range publishers {
		if err := os.CopyFS(filepath.Join(dir, key), os.DirFS(filepath.Join(testdata, key))); err != nil {
			t.Fatal(err)
		}
	}
	for original, copy := range crafted {
		b, err := os.ReadFile(filepath.Join(testdata, copy))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, original), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := replay.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	urls := make(map[string]string, len(publishers))
	for _, key := range publishers {
		urls[key] = srv.URL + "/" + key
	}
	return urls
}
