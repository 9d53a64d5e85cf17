// Package clients is who may call the API: API keys (made, hashed and
// checked here, stored by the store package), their scopes, and the
// authentication of each request, with revocations reaching every API
// replica at once through Redis.
package clients

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Scopes an API key may hold.
const (
	// ScopeRatesRead allows rate lookups, history and currencies.
	ScopeRatesRead = "rates:read"
	// ScopeConvert allows quotes, conversions and reading one's receipts.
	ScopeConvert = "convert"
)

// AllScopes lists the scopes in the order they are shown.
var AllScopes = []string{ScopeRatesRead, ScopeConvert}

// DefaultScopes are given to a key created without --scopes.
var DefaultScopes = []string{ScopeRatesRead, ScopeConvert}

// keyPrefix starts every key, so that a leaked one is recognisable
// (secret scanners match on it).
const keyPrefix = "ces_"

// Key is an API key as CES knows it: never the key itself.
type Key struct {
	ID        string
	Name      string
	Prefix    string // the first characters of the key, to recognise it in lists
	Scopes    []string
	CreatedAt time.Time
	CreatedBy string
	RevokedAt time.Time // zero while the key works
	// RequestsPerMinute is the key's own quota; zero: its scope's default.
	RequestsPerMinute int
}

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Has reports whether the key holds scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Generate returns a new key (shown once), its SHA-256 (stored) and its
// prefix (shown in lists).
func Generate() (key, hash, prefix string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", fmt.Errorf("clients: generate key: %w", err)
	}
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, Hash(key), key[:len(keyPrefix)+6], nil
}

// NewKey makes a key named name with scopes (and its own quota, 0: the
// scopes' defaults), made by by at now: the Key to store, the key itself
// (shown once) and its hash (stored).
func NewKey(name string, scopes []string, perMinute int, by string, now time.Time) (k Key, plain, hash string, err error) {
	plain, hash, prefix, err := Generate()
	if err != nil {
		return Key{}, "", "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Key{}, "", "", fmt.Errorf("clients: key id: %w", err)
	}
	return Key{ID: id.String(), Name: name, Prefix: prefix, Scopes: scopes, CreatedAt: now, CreatedBy: by, RequestsPerMinute: perMinute}, plain, hash, nil
}

// Hash is what is stored of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ParseScopes reads a comma-separated scope list; empty means DefaultScopes.
func ParseScopes(text string) ([]string, error) {
	if strings.TrimSpace(text) == "" {
		return slices.Clone(DefaultScopes), nil
	}
	var out []string
	for _, s := range strings.Split(text, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(AllScopes, s) {
			return nil, fmt.Errorf("clients: unknown scope %q (want %s)", s, strings.Join(AllScopes, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// FromHeader reads the key of an Authorization header: "Bearer <key>".
// Anything else is malformed; ok is false.
func FromHeader(header string) (key string, ok bool) {
	scheme, key, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(key, keyPrefix) || len(key) > 200 || strings.ContainsAny(key, " \t") {
		return "", false
	}
	return key, true
}
