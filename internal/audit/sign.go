package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// A seal's signature covers its hash and its predecessor's, prefixed with
// a domain label and the key id so a signature cannot be replayed as
// anything else or attributed to another key.
const signatureLabel = "ces-seal-signature v1"

// KeyID names an Ed25519 public key: the first 16 hex digits of the
// SHA-256 of its PKIX encoding. Seals record it, so that after a key is
// rotated older seals still name the key that verifies them.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil { // only for a key of the wrong length
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// SignatureMessage is the exact byte string a seal's signature covers.
func SignatureMessage(keyID, prevSealHash, sealHash string) []byte {
	return []byte(signatureLabel + "\n" + keyID + "\n" + prevSealHash + "\n" + sealHash + "\n")
}

// Signer signs seals with one private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer of key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	pub, _ := key.Public().(ed25519.PublicKey)
	return &Signer{key: key, id: KeyID(pub)}
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// PublicKey is the signer's public key.
func (s *Signer) PublicKey() ed25519.PublicKey {
	pub, _ := s.key.Public().(ed25519.PublicKey)
	return pub
}

// Sign sets seal's KeyID and Signature; SealHash must already be set.
func (s *Signer) Sign(seal *Seal) {
	seal.KeyID = s.id
	seal.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, SignatureMessage(s.id, seal.PrevSealHash, seal.SealHash)))
}

// Keys are the public keys trusted to have signed seals, by KeyID.
type Keys map[string]ed25519.PublicKey

// Add trusts pub.
func (k Keys) Add(pub ed25519.PublicKey) { k[KeyID(pub)] = pub }

// CheckSignature reports why seal's signature does not verify under keys,
// or nil when it does.
func (k Keys) CheckSignature(seal Seal) error {
	pub, ok := k[seal.KeyID]
	if !ok {
		return fmt.Errorf("signed with key %q, which is not a trusted key", seal.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(seal.Signature)
	if err != nil || !ed25519.Verify(pub, SignatureMessage(seal.KeyID, seal.PrevSealHash, seal.SealHash), sig) {
		return fmt.Errorf("its signature does not verify under key %s", seal.KeyID)
	}
	return nil
}

// GenerateKey returns a new key pair as PEM: the private key (PKCS #8) and
// the public key (PKIX), and the public key's id.
func GenerateKey() (private, public []byte, keyID string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, "", fmt.Errorf("audit: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, "", fmt.Errorf("audit: encode private key: %w", err)
	}
	public, err = EncodePublicKey(pub)
	if err != nil {
		return nil, nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), public, KeyID(pub), nil
}

// EncodePublicKey returns pub as a PEM "PUBLIC KEY" block.
func EncodePublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("audit: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads an Ed25519 private key from PEM (PKCS #8). Errors
// never quote the input.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS #8 private key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return priv, nil
}

// ParsePublicKeys reads every PEM "PUBLIC KEY" block of b, which must
// hold at least one, all Ed25519.
func ParsePublicKeys(b []byte) (Keys, error) {
	keys := Keys{}
	for n := 1; ; n++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("block %d is a %q, not a \"PUBLIC KEY\"", n, block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("block %d is a %T, not an Ed25519 key", n, k)
		}
		keys.Add(pub)
	}
	if len(keys) == 0 && strings.TrimSpace(string(b)) == "" {
		return nil, errors.New("no PEM \"PUBLIC KEY\" block")
	}
	if len(keys) == 0 {
		return nil, errors.New("not PEM")
	}
	return keys, nil
}
