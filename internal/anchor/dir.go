package anchor

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/audit"
)

// Dir is a Sink in a local directory (AUDIT_ANCHOR_DIR): one file per
// seal, seals/<id/1000>/<id>.json, and one per key, keys/<key id>.pem.
// Each file is written in full and fsynced under a temporary name, then
// linked into place, which fails if the name exists: a file is created
// exactly once and never rewritten. Point it at storage the database's
// hosts and credentials cannot write (another machine's mount, a volume
// only the worker mounts).
type Dir struct {
	root string
}

// NewDir returns the sink in root, creating its directories.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("anchor: no directory given")
	}
	for _, sub := range []string{"seals", "keys", "verified", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			return nil, fmt.Errorf("anchor: %w", err)
		}
	}
	return &Dir{root: root}, nil
}

// OpenDir returns the sink in root, which must exist: a verifier must not
// mistake a missing anchor for an empty one.
func OpenDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("anchor: no directory given")
	}
	if _, err := os.Stat(filepath.Join(root, "seals")); err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	return &Dir{root: root}, nil
}

// sealFile is the JSON form of a seal in the sink.
type sealFile struct {
	ID           int64     `json:"id"`
	CreatedAt    time.Time `json:"created_at"`
	XminFrom     uint64    `json:"xmin_from,string"`
	XminTo       uint64    `json:"xmin_to,string"`
	RowCount     int64     `json:"row_count"`
	FirstSeq     int64     `json:"first_seq"`
	LastSeq      int64     `json:"last_seq"`
	RowsSHA256   string    `json:"rows_sha256"`
	PrevSealHash string    `json:"prev_seal_hash"`
	SealHash     string    `json:"seal_hash"`
	KeyID        string    `json:"key_id,omitempty"`
	Signature    string    `json:"signature,omitempty"`
}

func (d *Dir) sealPath(id int64) string {
	return filepath.Join(d.root, "seals", fmt.Sprintf("%09d", id/1000), fmt.Sprintf("%012d.json", id))
}

// Put stores seal.
func (d *Dir) Put(ctx context.Context, s audit.Seal) error {
	b, err := json.MarshalIndent(sealFile{
		ID: s.ID, CreatedAt: s.CreatedAt.UTC(), XminFrom: s.XminFrom, XminTo: s.XminTo, RowCount: s.RowCount,
		FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, RowsSHA256: s.RowsSHA256, PrevSealHash: s.PrevSealHash,
		SealHash: s.SealHash, KeyID: s.KeyID, Signature: s.Signature,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("anchor: seal %d: %w", s.ID, err)
	}
	if err := d.create(ctx, d.sealPath(s.ID), append(b, '\n')); err != nil {
		return fmt.Errorf("anchor: seal %d: %w", s.ID, err)
	}
	return nil
}

// PutKey stores pub.
func (d *Dir) PutKey(ctx context.Context, pub ed25519.PublicKey) error {
	b, err := audit.EncodePublicKey(pub)
	if err != nil {
		return err
	}
	id := audit.KeyID(pub)
	if err := d.create(ctx, filepath.Join(d.root, "keys", id+".pem"), b); err != nil {
		return fmt.Errorf("anchor: key %s: %w", id, err)
	}
	return nil
}

// create writes b to path exactly once.
func (d *Dir) create(ctx context.Context, path string, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, b) {
			return nil
		}
		return ErrConflict
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return d.create(ctx, path, b) // a concurrent writer: compare with what it stored
		}
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// PutVerified records a clean run's last seal: verified/<id>.json.
func (d *Dir) PutVerified(ctx context.Context, sealID int64, sealHash string) error {
	b, err := json.Marshal(struct {
		SealID   int64  `json:"seal_id"`
		SealHash string `json:"seal_hash"`
	}{sealID, sealHash})
	if err != nil {
		return err
	}
	if err := d.create(ctx, filepath.Join(d.root, "verified", fmt.Sprintf("%012d.json", sealID)), append(b, '\n')); err != nil {
		return fmt.Errorf("anchor: verified seal %d: %w", sealID, err)
	}
	return nil
}

// Verified returns the seals clean runs ended at.
func (d *Dir) Verified(ctx context.Context) (map[int64]string, error) {
	files, err := names(filepath.Join(d.root, "verified"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[int64]string{}, nil // an anchor from before checkpoints
	}
	if err != nil {
		return nil, err
	}
	out := map[int64]string{}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(d.root, "verified", name))
		if err != nil {
			return nil, fmt.Errorf("anchor: %w", err)
		}
		var v struct {
			SealID   int64  `json:"seal_id"`
			SealHash string `json:"seal_hash"`
		}
		if json.Unmarshal(b, &v) == nil && v.SealID > 0 {
			out[v.SealID] = v.SealHash
		}
	}
	return out, nil
}

// Latest returns the newest seal's id.
func (d *Dir) Latest(ctx context.Context) (int64, bool, error) {
	shards, err := names(filepath.Join(d.root, "seals"))
	if err != nil {
		return 0, false, err
	}
	for i := len(shards) - 1; i >= 0; i-- {
		files, err := names(filepath.Join(d.root, "seals", shards[i]))
		if err != nil {
			return 0, false, err
		}
		for j := len(files) - 1; j >= 0; j-- {
			if id, ok := sealID(files[j]); ok {
				return id, true, nil
			}
		}
	}
	return 0, false, nil
}

// Seals returns every stored seal by id.
func (d *Dir) Seals(ctx context.Context) ([]audit.Seal, error) {
	shards, err := names(filepath.Join(d.root, "seals"))
	if err != nil {
		return nil, err
	}
	var out []audit.Seal
	for _, shard := range shards {
		files, err := names(filepath.Join(d.root, "seals", shard))
		if err != nil {
			return nil, err
		}
		for _, name := range files {
			id, ok := sealID(name)
			if !ok {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b, err := os.ReadFile(filepath.Join(d.root, "seals", shard, name))
			if err != nil {
				return nil, fmt.Errorf("anchor: %w", err)
			}
			var f sealFile
			if err := json.Unmarshal(b, &f); err != nil || f.ID != id {
				// Unreadable is a finding, not a reason to stop: the
				// verifier reports it as a seal that differs.
				f = sealFile{ID: id, SealHash: "unreadable anchor file " + filepath.Join(shard, name)}
			}
			out = append(out, audit.Seal{
				ID: f.ID, CreatedAt: f.CreatedAt.UTC(), XminFrom: f.XminFrom, XminTo: f.XminTo, RowCount: f.RowCount,
				FirstSeq: f.FirstSeq, LastSeq: f.LastSeq, RowsSHA256: f.RowsSHA256, PrevSealHash: f.PrevSealHash,
				SealHash: f.SealHash, KeyID: f.KeyID, Signature: f.Signature,
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Keys returns every stored public key.
func (d *Dir) Keys(ctx context.Context) (audit.Keys, error) {
	files, err := names(filepath.Join(d.root, "keys"))
	if err != nil {
		return nil, err
	}
	keys := audit.Keys{}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(d.root, "keys", name))
		if err != nil {
			return nil, fmt.Errorf("anchor: %w", err)
		}
		k, err := audit.ParsePublicKeys(b)
		if err != nil {
			return nil, fmt.Errorf("anchor: key file %s: %w", name, err)
		}
		for id, pub := range k {
			keys[id] = pub
		}
	}
	return keys, nil
}

// names lists a directory's entries in name order.
func names(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, nil
}

func sealID(name string) (int64, bool) {
	base, ok := strings.CutSuffix(name, ".json")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(base, 10, 64)
	return id, err == nil
}
