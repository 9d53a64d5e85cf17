package config

import (
	"strings"
	"testing"
)

// TestLoadLogins: both passwords or neither; login names, when given,
// are plain PostgreSQL names of their own; errors never echo a password.
func TestLoadLogins(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string // "" when valid, else a fragment of the error
	}{
		{"neither", map[string]string{}, ""},
		{"both", map[string]string{"CES_API_DB_PASSWORD": "a-secret", "CES_WORKER_DB_PASSWORD": "w-secret"}, ""},
		{"one", map[string]string{"CES_API_DB_PASSWORD": "a-secret"}, "set both, or neither"},
		{"legacy names", map[string]string{"CES_API_DB_LOGIN": "ces_api", "CES_WORKER_DB_LOGIN": "ces_worker"}, ""},
		{"one name", map[string]string{"CES_WORKER_DB_LOGIN": "ces_worker_payments"}, ""},
		{"upper case", map[string]string{"CES_API_DB_LOGIN": "CES_API"}, "CES_API_DB_LOGIN is malformed"},
		{"quote", map[string]string{"CES_WORKER_DB_LOGIN": `w"; DROP ROLE x; --`}, "CES_WORKER_DB_LOGIN is malformed"},
		{"leading digit", map[string]string{"CES_API_DB_LOGIN": "1api"}, "CES_API_DB_LOGIN is malformed"},
		{"64 bytes", map[string]string{"CES_API_DB_LOGIN": strings.Repeat("a", 64)}, "CES_API_DB_LOGIN is malformed"},
		{"63 bytes", map[string]string{"CES_API_DB_LOGIN": strings.Repeat("a", 63)}, ""},
		{"shared", map[string]string{"CES_API_DB_LOGIN": "ces", "CES_WORKER_DB_LOGIN": "ces"}, "logins of their own"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"CES_API_DB_PASSWORD", "CES_WORKER_DB_PASSWORD", "CES_API_DB_LOGIN", "CES_WORKER_DB_LOGIN"} {
				t.Setenv(k, tt.env[k])
			}
			_, err := LoadLogins()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows a password: %v", err)
			}
		})
	}
}
