package config

import (
	"strings"
	"testing"
	"time"
)

func base() map[string]string {
	return map[string]string{
		"DATABASE_URL": "postgres://ces:s3cretpw@127.0.0.1:5432/ces?sslmode=disable",
		"REDIS_URL":    "redis://:r3dispw@127.0.0.1:6379/0",
	}
}

func with(kv ...string) map[string]string {
	m := base()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"missing database", with("DATABASE_URL", "<unset>"), "config: DATABASE_URL is required but not set"},
		{"empty redis", with("REDIS_URL", ""), "config: REDIS_URL is required but empty"},
		{"bad interval", with("INGEST_INTERVAL", "hourly"), "config: INGEST_INTERVAL is malformed"},
		{"short interval", with("INGEST_INTERVAL", "5s"), "config: INGEST_INTERVAL is malformed: 5s is shorter than 1m"},
		{"bad margin", with("CONVERSION_MARGIN", "half"), "config: CONVERSION_MARGIN is malformed"},
		{"exponent margin", with("CONVERSION_MARGIN", "5e-3"), "config: CONVERSION_MARGIN is malformed"},
		{"negative margin", with("CONVERSION_MARGIN", "-0.01"), "config: CONVERSION_MARGIN is malformed"},
		{"margin of one", with("CONVERSION_MARGIN", "1"), "config: CONVERSION_MARGIN is malformed"},
		{"unknown provider", with("FX_PROVIDER", "yahoo"), "config: FX_PROVIDER is malformed"},
		{"oxr without key", with("FX_PROVIDER", "openexchangerates"), "config: FX_API_KEY is required"},
		{"file without path", with("FX_PROVIDER", "file"), "config: FX_FILE is required"},
		{"wrong database scheme", with("DATABASE_URL", "mysql://root:s3cretpw@localhost/ces"), "config: DATABASE_URL is malformed"},
		{"unparseable database url", with("DATABASE_URL", "postgres://u:s3cretpw@[::1"), "config: DATABASE_URL is malformed: not a URL"},
		{"bad base url", with("FX_BASE_URL", "ftp://mirror"), "config: FX_BASE_URL is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom(tt.env)
			if err == nil {
				t.Fatalf("LoadFrom succeeded, want error %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.wantErr) {
				t.Fatalf("error = %q, want prefix %q", msg, tt.wantErr)
			}
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			for _, secret := range []string{"s3cretpw", "r3dispw"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("error leaks a password: %q", msg)
				}
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		provider string
	}{
		{"ecb without key", base(), ProviderECB},
		{"oxr with key", with("FX_API_KEY", "k-123"), ProviderOpenExchangeRates},
		{"explicit wins", with("FX_API_KEY", "k-123", "FX_PROVIDER", "ecb"), ProviderECB},
		{"file", with("FX_PROVIDER", "file", "FX_FILE", "testdata/x.xml"), ProviderFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFrom(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.FXProvider != tt.provider {
				t.Fatalf("provider = %q, want %q", c.FXProvider, tt.provider)
			}
			if c.IngestInterval != time.Hour {
				t.Fatalf("interval = %s, want 1h", c.IngestInterval)
			}
			if !c.ConversionMargin.IsZero() {
				t.Fatalf("margin = %s, want 0", c.ConversionMargin)
			}
		})
	}
}

func TestStringRedactsSecrets(t *testing.T) {
	c, err := LoadFrom(with("FX_API_KEY", "k-topsecret"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"s3cretpw", "r3dispw", "k-topsecret"} {
		if strings.Contains(s, secret) {
			t.Fatalf("String() leaks %q: %s", secret, s)
		}
	}
}
