package audit

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

func testSigner(t *testing.T) *Signer {
	t.Helper()
	private, _, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(key)
}

// chain builds n linked seals, signed by signer from index signedFrom on.
func chain(n, signedFrom int, signer *Signer) []Seal {
	var out []Seal
	prev := Seal{SealHash: GenesisSealHash, XminTo: 100}
	for i := range n {
		s := Seal{ID: int64(i + 1), CreatedAt: time.Date(2026, 11, 28, 10, i, 0, 0, time.UTC), XminFrom: prev.XminTo, XminTo: prev.XminTo + 10,
			RowCount: 1, FirstSeq: int64(i + 1), LastSeq: int64(i + 1), RowsSHA256: strings.Repeat("a", 64), PrevSealHash: prev.SealHash}
		if i == 0 {
			s.XminFrom = 0
		}
		s.SealHash = s.ComputeHash()
		if i >= signedFrom {
			signer.Sign(&s)
		}
		out = append(out, s)
		prev = s
	}
	return out
}

func TestCheckChain(t *testing.T) {
	signer, other := testSigner(t), testSigner(t)
	trusted := Keys{}
	trusted.Add(signer.PublicKey())
	tests := []struct {
		name         string
		seals        func() []Seal
		wantUnsigned int
		want         string
	}{
		{"signed throughout", func() []Seal { return chain(3, 0, signer) }, 0, ""},
		{"unsigned before signing began", func() []Seal { return chain(4, 2, signer) }, 2, ""},
		{"unsigned after a signed seal", func() []Seal {
			c := chain(3, 0, signer)
			c[2].KeyID, c[2].Signature = "", ""
			return c
		}, 0, "seal 3: unsigned, after signed seals"},
		{"signed by an untrusted key", func() []Seal {
			c := chain(3, 0, signer)
			other.Sign(&c[1])
			return c
		}, 0, `seal 2: signed with key "` + other.KeyID() + `", which is not a trusted key`},
		{"a signature moved to another seal", func() []Seal {
			c := chain(3, 0, signer)
			c[1].Signature = c[2].Signature
			return c
		}, 0, "seal 2: its signature does not verify"},
		{"content changed, hash kept", func() []Seal {
			c := chain(3, 0, signer)
			c[1].RowCount = 2
			return c
		}, 0, "seal 2: its hash does not match its content"},
		{"a seal removed from the middle", func() []Seal {
			c := chain(3, 0, signer)
			return append(c[:1], c[2])
		}, 0, "seal 3: does not follow seal 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsigned, problem := CheckChain(tt.seals(), trusted)
			if unsigned != tt.wantUnsigned || (tt.want == "") != (problem == "") || !strings.Contains(problem, tt.want) {
				t.Fatalf("CheckChain = %d, %q; want %d, %q", unsigned, problem, tt.wantUnsigned, tt.want)
			}
		})
	}
}

func TestCompareAnchor(t *testing.T) {
	signer := testSigner(t)
	base := chain(4, 0, signer)
	grace := base[3].CreatedAt.Add(-time.Second) // only seal 4 is new
	resigned := testSigner(t)
	tests := []struct {
		name         string
		db, anchored []Seal
		wantPending  int
		want         string
	}{
		{"the same", base, base, 0, ""},
		{"the newest not anchored yet", base, base[:3], 1, ""},
		{"an older one not anchored", base[:3], base[:2], 0, "seal 3: in the database but not in the anchor"},
		{"an anchor file removed", base, []Seal{base[0], base[2], base[3]}, 0, "seal 2: in the database but not in the anchor"},
		{"a missing tail", base[:2], base, 0, "missing tail: seals 3..4 are in the anchor but not in the database"},
		{"a seal only in the anchor, in the middle", []Seal{base[0], base[2], base[3]}, base, 0, "seal 2: in the anchor but not in the database"},
		{"rewritten", func() []Seal {
			c := append([]Seal(nil), base...)
			c[1].RowsSHA256 = strings.Repeat("b", 64)
			return c
		}(), base, 0, "seal 2: differs from its anchored copy"},
		{"re-signed", func() []Seal {
			c := append([]Seal(nil), base...)
			resigned.Sign(&c[2])
			return c
		}(), base, 0, "seal 3: differs from its anchored copy"},
		{"the same instant in another location", func() []Seal {
			c := append([]Seal(nil), base...)
			c[0].CreatedAt = c[0].CreatedAt.In(time.FixedZone("WAT", 3600))
			return c
		}(), base, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := CompareAnchor(tt.db, tt.anchored, grace)
			if rep.Pending != tt.wantPending || (tt.want == "") != (rep.Problem == "") || !strings.Contains(rep.Problem, tt.want) {
				t.Fatalf("CompareAnchor = %+v; want pending %d, %q", rep, tt.wantPending, tt.want)
			}
		})
	}
}

func TestKeysRoundTrip(t *testing.T) {
	private, public, id, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePublicKeys(append(public, public...))
	if err != nil || len(keys) != 1 || !keys[id].Equal(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("ParsePublicKeys = %v, %v; want key %s", keys, err, id)
	}
	for _, bad := range []string{"", "not pem", string(private)} {
		if _, err := ParsePublicKeys([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKeys(%.20q) accepted it", bad)
		}
	}
	if _, err := ParsePrivateKey(public); err == nil || strings.Contains(err.Error(), "BEGIN") {
		t.Errorf("ParsePrivateKey(public key) = %v", err)
	}
}
