package anchor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ces/internal/anchor"
	"ces/internal/audit"
)

func TestDirStoresEachSealOnce(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "anchor")
	if _, err := anchor.OpenDir(root); err == nil {
		t.Fatal("OpenDir accepted a directory that does not exist: a verifier would take it for an empty anchor")
	}
	d, err := anchor.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.Latest(ctx); err != nil || ok {
		t.Fatalf("empty anchor: latest %v %v", ok, err)
	}
	seal := func(id int64) audit.Seal {
		s := audit.Seal{ID: id, CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC), XminFrom: 1 << 40, XminTo: 1<<40 + 5,
			RowCount: 2, FirstSeq: 1, LastSeq: 2, RowsSHA256: "r", PrevSealHash: "p", KeyID: "k", Signature: "s"}
		s.SealHash = s.ComputeHash()
		return s
	}
	for _, id := range []int64{1, 2, 1999, 2000} {
		if err := d.Put(ctx, seal(id)); err != nil {
			t.Fatal(err)
		}
		if err := d.Put(ctx, seal(id)); err != nil {
			t.Fatalf("the same seal again: %v", err)
		}
	}
	changed := seal(2)
	changed.RowCount = 3
	if err := d.Put(ctx, changed); !errors.Is(err, anchor.ErrConflict) {
		t.Fatalf("a different seal 2: %v, want ErrConflict", err)
	}
	if latest, ok, err := d.Latest(ctx); err != nil || !ok || latest != 2000 {
		t.Fatalf("latest = %d %v %v, want 2000", latest, ok, err)
	}
	got, err := d.Seals(ctx)
	if err != nil || len(got) != 4 {
		t.Fatalf("seals = %d, %v", len(got), err)
	}
	if want := seal(1999); got[2] != want {
		t.Fatalf("seal 1999 read back as %+v, want %+v", got[2], want)
	}
	if fi, err := os.Stat(filepath.Join(root, "seals", "000000001", "000000001999.json")); err != nil {
		t.Fatalf("seal file: %v %v", fi, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "tmp")); len(entries) != 0 {
		t.Fatalf("temporary files left behind: %d", len(entries))
	}
	// A file that is not a seal is a finding for the verifier, not a crash.
	if err := os.WriteFile(filepath.Join(root, "seals", "000000000", "000000000007.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Seals(ctx); err != nil || len(got) != 5 || got[2].ID != 7 || got[2].SealHash == seal(7).SealHash {
		t.Fatalf("unreadable file: %v %v", got, err)
	}
}

func TestDirKeys(t *testing.T) {
	ctx := context.Background()
	d, err := anchor.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 { // a rotation: both keys stay trusted
		private, _, id, err := audit.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		key, _ := audit.ParsePrivateKey(private)
		s := audit.NewSigner(key)
		if err := d.PutKey(ctx, s.PublicKey()); err != nil {
			t.Fatal(err)
		}
		if err := d.PutKey(ctx, s.PublicKey()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	keys, err := d.Keys(ctx)
	if err != nil || len(keys) != 2 || keys[ids[0]] == nil || keys[ids[1]] == nil {
		t.Fatalf("keys = %v, %v; want %v", keys, err, ids)
	}
}
