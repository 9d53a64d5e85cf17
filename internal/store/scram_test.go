package store

import (
	"encoding/base64"
	"testing"
)

// TestSCRAMVerifier pins the verifier of RFC 7677's example password and
// salt. The expected text was computed independently with Python's
// hashlib (pbkdf2_hmac and hmac, SHA-256, 4096 iterations).
func TestSCRAMVerifier(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	got, err := scramVerifierWith("pencil", salt, 4096)
	want := "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	if err != nil || got != want {
		t.Fatalf("verifier = %q, %v\nwant %q", got, err, want)
	}
	if _, err := scramVerifier("pässword"); err == nil {
		t.Fatal("a non-ASCII password was hashed without SASLprep")
	}
}
