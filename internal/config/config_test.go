package config

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"ces/internal/catalog"
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
		{"cluster and sentinel", with("REDIS_CLUSTER", "true", "REDIS_SENTINEL_MASTER", "mymaster"), "config: REDIS_CLUSTER and REDIS_SENTINEL_MASTER exclude each other"},
		{"cluster not a bool", with("REDIS_CLUSTER", "yes please"), "config: REDIS_CLUSTER"},
		{"bad interval", with("INGEST_INTERVAL", "hourly"), "config: INGEST_INTERVAL is malformed"},
		{"short interval", with("INGEST_INTERVAL", "5s"), "config: INGEST_INTERVAL is malformed: 5s is shorter than 1m"},
		{"provider timeout too long", with("FX_HTTP_TIMEOUT", "60s"), "config: FX_HTTP_TIMEOUT is malformed: 1m0s is outside 1s to 40s"},
		{"provider timeout too short", with("FX_HTTP_TIMEOUT", "10ms"), "config: FX_HTTP_TIMEOUT is malformed"},
		{"bad margin", with("CONVERSION_MARGIN", "half"), "config: CONVERSION_MARGIN is malformed"},
		{"exponent margin", with("CONVERSION_MARGIN", "5e-3"), "config: CONVERSION_MARGIN is malformed"},
		{"negative margin", with("CONVERSION_MARGIN", "-0.01"), "config: CONVERSION_MARGIN is malformed"},
		{"margin of one", with("CONVERSION_MARGIN", "1"), "config: CONVERSION_MARGIN is malformed"},
		{"unknown provider", with("FX_PROVIDER", "yahoo"), "config: FX_PROVIDER is malformed"},
		{"unknown provider in the list", with("FX_PROVIDERS", "ecb,yahoo"), "config: FX_PROVIDERS is malformed: \"yahoo\" is not one of"},
		{"duplicate provider", with("FX_PROVIDERS", "ecb,cbn,ecb"), "config: FX_PROVIDERS is malformed: ecb is listed twice"},
		{"empty list", with("FX_PROVIDERS", " , "), "config: FX_PROVIDERS is malformed: the list is empty"},
		{"both spellings", with("FX_PROVIDERS", "ecb", "FX_PROVIDER", "cbn"), "config: FX_PROVIDER and FX_PROVIDERS are both set"},
		{"priority names an unknown provider", with("FX_SOURCE_PRIORITY", "yahoo"), "config: FX_SOURCE_PRIORITY is malformed: \"yahoo\""},
		{"priority names an unconfigured provider", with("FX_PROVIDERS", "ecb", "FX_SOURCE_PRIORITY", "cbn"), "config: FX_SOURCE_PRIORITY is malformed: cbn is not in FX_PROVIDERS"},
		{"priority duplicate", with("FX_SOURCE_PRIORITY", "cbn,cbn"), "config: FX_SOURCE_PRIORITY is malformed: cbn is listed twice"},
		{"one base url for two providers", with("FX_BASE_URL", "http://127.0.0.1:1"), "config: FX_BASE_URL is ambiguous"},
		{"bad provider base url", with("FX_CBN_BASE_URL", "ftp://mirror"), "config: FX_CBN_BASE_URL is malformed"},
		{"bad catalogue publisher base url", with("FX_PROVIDERS", "ecb,boc", "FX_BOC_BASE_URL", "ftp://mirror"), "config: FX_BOC_BASE_URL is malformed"},
		{"keyed publisher without its key", with("FX_PROVIDERS", "openexchangerates"), "config: FX_API_KEY is required"},
		{"bad jump limit", with("RATE_JUMP_LIMIT", "lots"), "config: RATE_JUMP_LIMIT is malformed"},
		{"zero jump limit", with("RATE_JUMP_LIMIT", "0"), "config: RATE_JUMP_LIMIT is malformed"},
		{"one publisher is no consensus", with("GATE_CONSENSUS_MIN_PUBLISHERS", "1"), "config: GATE_CONSENSUS_MIN_PUBLISHERS is malformed"},
		{"negative MADs", with("GATE_CONSENSUS_MADS", "-1"), "config: GATE_CONSENSUS_MADS is malformed"},
		{"a band of 100%", with("GATE_CONSENSUS_BAND", "1"), "config: GATE_CONSENSUS_BAND is malformed"},
		{"a band in exponent notation", with("GATE_CONSENSUS_BAND", "5e-2"), "config: GATE_CONSENSUS_BAND is malformed"},
		{"a negative reference age", with("GATE_REFERENCE_MAX_AGE", "-1h"), "config: GATE_REFERENCE_MAX_AGE is malformed"},
		{"late after no day", with("PUBLISHER_LATE_AFTER_DAYS", "0"), "config: PUBLISHER_LATE_AFTER_DAYS is malformed"},
		{"silent before late", with("PUBLISHER_LATE_AFTER_DAYS", "5", "PUBLISHER_SILENT_AFTER_DAYS", "5"), "config: PUBLISHER_SILENT_AFTER_DAYS is malformed"},
		{"negative silence", with("PUBLISHER_SILENT_AFTER_DAYS", "-1"), "config: PUBLISHER_SILENT_AFTER_DAYS is malformed"},
		{"no backfill calls", with("BACKFILL_MAX_IN_FLIGHT", "0"), "config: BACKFILL_MAX_IN_FLIGHT is malformed"},
		{"an unknown worker queue", with("WORKER_QUEUES", "ingest,sealing"), "config: WORKER_QUEUES is malformed: \"sealing\" is not ingest or audit"},
		{"no worker queue", with("WORKER_QUEUES", " , "), "config: WORKER_QUEUES is malformed"},
		{"one queue for both concerns", with("TEMPORAL_AUDIT_TASK_QUEUE", "ces-ingest"), "config: TEMPORAL_AUDIT_TASK_QUEUE is malformed: it must differ"},
		{"quote ttl too long", with("QUOTE_TTL", "2h"), "config: QUOTE_TTL is malformed"},
		{"negative history cache", with("HISTORY_CACHE_MB", "-1"), "config: HISTORY_CACHE_MB is malformed"},
		{"negative quota", with("QUOTA_CONVERT_PER_MINUTE", "-1"), "config: QUOTA_RATES_PER_MINUTE and QUOTA_CONVERT_PER_MINUTE are malformed"},
		{"negative anonymous quota", with("QUOTA_ANONYMOUS_PER_MINUTE", "-1"), "config: QUOTA_ANONYMOUS_PER_MINUTE is malformed"},
		{"oxr without key", with("FX_PROVIDER", "openexchangerates"), "config: FX_API_KEY is required"},
		{"file without path", with("FX_PROVIDER", "file"), "config: FX_FILE is required"},
		{"wrong database scheme", with("DATABASE_URL", "mysql://root:s3cretpw@localhost/ces"), "config: DATABASE_URL is malformed"},
		{"unparseable database url", with("DATABASE_URL", "postgres://u:s3cretpw@[::1"), "config: DATABASE_URL is malformed: not a URL"},
		{"bad base url", with("FX_PROVIDER", "ecb", "FX_BASE_URL", "ftp://mirror"), "config: FX_BASE_URL is malformed"},
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

// withKey is the catalogue's keyless publishers and the keyed ones named,
// in catalogue order.
func withKey(keyed ...string) []string {
	var out []string
	for _, p := range catalog.All() {
		if p.Keyless() || slices.Contains(keyed, p.Key) {
			out = append(out, p.Key)
		}
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		providers string
		priority  string
	}{
		{"every keyless publisher by default", base(), strings.Join(catalog.KeylessKeys(), ","), ""},
		{"a keyed one joins with its key", with("FX_API_KEY", "k-123"), strings.Join(withKey("openexchangerates"), ","), ""},
		{"FX_PROVIDER is a one-element list", with("FX_API_KEY", "k-123", "FX_PROVIDER", "ecb"), "ecb", ""},
		{"file", with("FX_PROVIDER", "file", "FX_FILE", "testdata/x.xml"), "file", ""},
		{"list with spaces and case", with("FX_PROVIDERS", " CBN , ecb "), "cbn,ecb", ""},
		{"priority reorders, the rest follow", with("FX_API_KEY", "k", "FX_PROVIDERS", "ecb,cbn,openexchangerates", "FX_SOURCE_PRIORITY", "openexchangerates"), "ecb,cbn,openexchangerates", "openexchangerates,ecb,cbn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFrom(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.FXProviders, ","); got != tt.providers {
				t.Fatalf("providers = %q, want %q", got, tt.providers)
			}
			if got := strings.Join(c.SourcePriority, ","); got != tt.priority {
				t.Fatalf("priority = %q, want %q", got, tt.priority)
			}
			if c.IngestInterval != 0 || c.Cadence(ProviderOpenExchangeRates).Interval != time.Hour || len(c.Cadence(ProviderECB).Cron) != 1 {
				t.Fatalf("cadence: interval %s, oxr %s, ecb %v", c.IngestInterval, c.Cadence(ProviderOpenExchangeRates), c.Cadence(ProviderECB))
			}
			if c.GateConsensus.MinOthers != 3 || c.GateConsensus.MADs.String() != "10" || c.GateConsensus.Band.String() != "0.05" || c.GateReferenceMaxAge != 0 {
				t.Errorf("gate consensus = %+v, max age %s; want Frankfurter's 4 publishers, 10 MADs, 5%% and the cadence", c.GateConsensus, c.GateReferenceMaxAge)
			}
			if c.RateJumpLimit.String() != "0.25" {
				t.Fatalf("jump limit = %s, want 0.25", c.RateJumpLimit)
			}
			if !c.ConversionMargin.IsZero() {
				t.Fatalf("margin = %s, want 0", c.ConversionMargin)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	c, err := LoadFrom(with("FX_PROVIDERS", "ecb,cbn", "FX_CBN_BASE_URL", "file:///srv/cbn"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL(ProviderCBN) != "file:///srv/cbn" || c.BaseURL(ProviderECB) != "" {
		t.Fatalf("BaseURL: cbn %q, ecb %q", c.BaseURL(ProviderCBN), c.BaseURL(ProviderECB))
	}
	c, err = LoadFrom(with("FX_PROVIDER", "ecb", "FX_BASE_URL", "http://127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL(ProviderECB) != "http://127.0.0.1:9" {
		t.Fatalf("FX_BASE_URL of the one provider: %q", c.BaseURL(ProviderECB))
	}
}

func TestStringRedactsSecrets(t *testing.T) {
	c, err := LoadFrom(with("FX_API_KEY", "k-topsecret", "REDIS_SENTINEL_MASTER", "mymaster", "REDIS_SENTINEL_PASSWORD", "s3ntinelpw"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"s3cretpw", "r3dispw", "k-topsecret", "s3ntinelpw"} {
		if strings.Contains(s, secret) {
			t.Fatalf("String() leaks %q: %s", secret, s)
		}
	}
}

// TestLoadReadsMakeUpsEnvFile: in a second terminal, the variables make up
// wrote to .data/env fill in what the environment leaves unset; what the
// environment sets wins; secrets never reach the error.
func TestLoadReadsMakeUpsEnvFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "FX_PROVIDERS", "FX_PROVIDER", "FX_API_KEY", "FX_BASE_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("REDIS_URL", "redis://127.0.0.1:6390/0")
	if err := os.MkdirAll(".data", 0o700); err != nil {
		t.Fatal(err)
	}
	env := "DATABASE_URL=postgres://ces:s3cretpw@127.0.0.1:5432/ces?sslmode=disable\nREDIS_URL=redis://127.0.0.1:6379/0\nFX_PROVIDERS=ecb,cbn\n"
	if err := os.WriteFile(EnvFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisURL != "redis://127.0.0.1:6390/0" || !strings.Contains(c.DatabaseURL, "@127.0.0.1:5432/ces") || strings.Join(c.FXProviders, ",") != "ecb,cbn" {
		t.Fatalf("config = %s", c)
	}
	if got := strings.Join(c.FromEnvFile, ","); got != "DATABASE_URL,FX_PROVIDERS" {
		t.Fatalf("FromEnvFile = %q, want DATABASE_URL,FX_PROVIDERS", got)
	}
	if err := os.WriteFile(EnvFile, []byte("DATABASE_URL=mysql://root:s3cretpw@db/ces\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), EnvFile) || strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("error = %v, want one naming %s without the password", err, EnvFile)
	}
}

func TestCatalogueProviders(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		stale   map[string]time.Duration
		cron    map[string]string
		baseURL map[string]string
	}{
		{
			name: "keyless is every publisher that needs no key",
			env:  with("FX_PROVIDERS", "keyless"),
			want: catalog.KeylessKeys(),
		},
		{
			name: "keyless takes a keyed publisher in when its key is set",
			env:  with("FX_PROVIDERS", "keyless", "FX_FRED_API_KEY", "k"),
			want: sortedWith(catalog.KeylessKeys(), "fred"),
		},
		{
			name: "keyless and more",
			env:  with("FX_PROVIDERS", "ecb,keyless", "FX_API_KEY", "k"),
			want: nil, // ecb twice: refused below
		},
		{
			name: "a publisher's schedule and staleness come from the catalogue",
			env:  with("FX_PROVIDERS", "ecb,boc,cbn"),
			want: []string{"ecb", "boc", "cbn"},
			cron: map[string]string{"boc": "*/30 20-22 * * 1-5", "ecb": "10 14-17 * * 1-5", "cbn": "20 8-18 * * 1-5"},
			// a daily publisher: Friday's rate until Monday's, and a holiday
			stale: map[string]time.Duration{"boc": 97 * time.Hour, "ecb": 97 * time.Hour},
		},
		{
			name:  "a legal peg is never stale, whatever RATE_STALE_AFTER says",
			env:   with("FX_PROVIDERS", "ecb,peg", "RATE_STALE_AFTER", "1h"),
			want:  []string{"ecb", "peg"},
			stale: map[string]time.Duration{"ecb": time.Hour, "peg": math.MaxInt64},
		},
		{
			name:    "each publisher's endpoint is FX_<KEY>_BASE_URL",
			env:     with("FX_PROVIDERS", "ecb,boc,rb", "FX_BOC_BASE_URL", "file:///srv/boc", "FX_ECB_BASE_URL", "http://127.0.0.1:9"),
			want:    []string{"ecb", "boc", "rb"},
			baseURL: map[string]string{"boc": "file:///srv/boc", "ecb": "http://127.0.0.1:9", "rb": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFrom(tt.env)
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), "ecb is listed twice") {
					t.Fatalf("err = %v, want ecb listed twice", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.FXProviders, ",") != strings.Join(tt.want, ",") {
				t.Errorf("providers = %v, want %v", c.FXProviders, tt.want)
			}
			for p, want := range tt.stale {
				if got := c.StaleAfter(p); got != want {
					t.Errorf("StaleAfter(%s) = %s, want %s", p, got, want)
				}
			}
			if slices.Contains(tt.want, "peg") {
				c.ConvertMaxRateAge = time.Hour
				if got := c.MaxConvertAge("peg"); got != math.MaxInt64 {
					t.Errorf("MaxConvertAge(peg) = %s under CONVERT_MAX_RATE_AGE=1h, want no bound", got)
				}
			}
			for p, want := range tt.cron {
				if got := c.Cadence(p); len(got.Cron) != 1 || got.Cron[0] != want {
					t.Errorf("Cadence(%s) = %v, want cron %s", p, got, want)
				}
			}
			for p, want := range tt.baseURL {
				if got := c.BaseURL(p); got != want {
					t.Errorf("BaseURL(%s) = %q, want %q", p, got, want)
				}
			}
		})
	}
}

func sortedWith(list []string, more ...string) []string {
	out := append(slices.Clone(list), more...)
	slices.Sort(out)
	return out
}

func TestKeylessLeavesKeyedPublishersOut(t *testing.T) {
	c, err := LoadFrom(with("FX_PROVIDERS", "keyless"))
	if err != nil {
		t.Fatal(err)
	}
	for _, keyed := range []string{ProviderOpenExchangeRates, "fred"} {
		if slices.Contains(c.FXProviders, keyed) {
			t.Errorf("keyless without keys lists %s: %v", keyed, c.FXProviders)
		}
	}
	for _, p := range []string{ProviderECB, ProviderCBN, "boc", "nbu"} {
		if !slices.Contains(c.FXProviders, p) {
			t.Errorf("keyless leaves %s out: %v", p, c.FXProviders)
		}
	}
	if _, err := LoadFrom(with("FX_PROVIDERS", "ecb,fred")); err == nil || !strings.Contains(err.Error(), "FX_FRED_API_KEY is required") {
		t.Errorf("fred without its key: err = %v", err)
	}
	c, err = LoadFrom(with("FX_PROVIDERS", "fred", "FX_FRED_API_KEY", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey("fred") != "s3cret" || c.APIKey(ProviderECB) != "" {
		t.Errorf("APIKey: fred %q, ecb %q", c.APIKey("fred"), c.APIKey(ProviderECB))
	}
	if strings.Contains(c.String(), "s3cret") {
		t.Errorf("String shows the FRED key: %s", c.String())
	}
}
