package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"ces/internal/audit"
)

// Signer reads the seal signing key named by AUDIT_SIGNING_KEY_FILE. Each
// error is one line naming the variable; none quotes the file.
func (c Config) Signer() (*audit.Signer, error) {
	if c.AuditSigningKeyFile == "" {
		return nil, errors.New("config: AUDIT_SIGNING_KEY_FILE is required by the worker but not set (create a key with: starter audit-keygen --out FILE)")
	}
	b, err := os.ReadFile(c.AuditSigningKeyFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("config: AUDIT_SIGNING_KEY_FILE cannot be read: %w", err)
	}
	key, err := audit.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("config: AUDIT_SIGNING_KEY_FILE is malformed: %w", err)
	}
	return audit.NewSigner(key), nil
}

// SigningKeyExposed reports whether the signing key file can be read by
// other users than its owner, which deserves a warning.
func (c Config) SigningKeyExposed() bool {
	fi, err := os.Stat(c.AuditSigningKeyFile)
	return err == nil && fi.Mode().Perm()&0o077 != 0
}
