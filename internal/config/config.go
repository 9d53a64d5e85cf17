// Package config parses the process environment once, at start, into a
// Config. Every failure names the variable and what is wrong with it, and no
// error or log line ever carries FX_API_KEY or a password inside a URL.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"ces/internal/catalog"
	"ces/internal/policy"
	"ces/internal/temporalconn"
)

// Provider names accepted in FX_PROVIDERS (and FX_PROVIDER).
const (
	ProviderECB               = "ecb"
	ProviderCBN               = "cbn"
	ProviderOpenExchangeRates = "openexchangerates"
	ProviderFile              = "file"
)

// Worker queue names accepted in WORKER_QUEUES.
const (
	QueueIngest = "ingest"
	QueueAudit  = "audit"
)

// KnownProviders lists every provider name CES has an adapter for: the
// catalogue's publishers and the file provider of the offline demo.
var KnownProviders = append(catalog.Keys(), ProviderFile)

// Keyless is the FX_PROVIDERS word for every catalogue publisher that
// needs no API key, with the keyed ones whose key is set.
const Keyless = "keyless"

// Config is the whole configuration of the CES processes.
type Config struct {
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`
	RedisURL    string `env:"REDIS_URL,required,notEmpty"`
	// RedisCluster makes REDIS_URL name a Redis Cluster's seed nodes;
	// RedisSentinelMaster makes it name the sentinels that manage the
	// primary of that name (see cache.Conn).
	RedisCluster          bool   `env:"REDIS_CLUSTER"`
	RedisSentinelMaster   string `env:"REDIS_SENTINEL_MASTER"`
	RedisSentinelPassword string `env:"REDIS_SENTINEL_PASSWORD"`
	FXAPIKey              string `env:"FX_API_KEY"`
	// FXProviders is the list of providers ingested and served, parsed
	// from FX_PROVIDERS (or FX_PROVIDER, its one-element form) by validate.
	FXProviders     []string `env:"-"`
	FXProvidersText string   `env:"FX_PROVIDERS"`
	FXProvider      string   `env:"FX_PROVIDER"`
	// FXBaseURL overrides the endpoint of the one configured provider.
	FXBaseURL    string `env:"FX_BASE_URL"`
	FXECBBaseURL string `env:"FX_ECB_BASE_URL"`
	FXCBNBaseURL string `env:"FX_CBN_BASE_URL"`
	FXOXRBaseURL string `env:"FX_OPENEXCHANGERATES_BASE_URL"`
	FXFile       string `env:"FX_FILE"`
	// FXHTTPTimeout bounds one provider request, so a hung provider becomes
	// a retryable failure well inside FetchRates' 45 s start-to-close.
	FXHTTPTimeout time.Duration `env:"FX_HTTP_TIMEOUT" envDefault:"30s"`
	// SourcePriority, parsed from FX_SOURCE_PRIORITY, orders the providers
	// for the source policy instead of the default policy (nil: the
	// default, see policy.Authority).
	SourcePriority     []string `env:"-"`
	SourcePriorityText string   `env:"FX_SOURCE_PRIORITY"`
	// BackfillMaxInFlight bounds the calls a backfill makes at once to a
	// provider that serves one day per call (Open Exchange Rates).
	BackfillMaxInFlight int `env:"BACKFILL_MAX_IN_FLIGHT" envDefault:"4"`
	// RateJumpLimit is the relative move that quarantines an incoming rate.
	RateJumpLimit     decimal.Decimal `env:"-"`
	RateJumpLimitText string          `env:"RATE_JUMP_LIMIT" envDefault:"0.25"`
	// GateConsensus is the quality gate's consensus check, parsed from
	// GATE_CONSENSUS_MIN_PUBLISHERS (the row's publisher included),
	// GATE_CONSENSUS_MADS and GATE_CONSENSUS_BAND.
	GateConsensus           policy.Consensus `env:"-"`
	GateConsensusPublishers int              `env:"GATE_CONSENSUS_MIN_PUBLISHERS" envDefault:"4"`
	GateConsensusMADsText   string           `env:"GATE_CONSENSUS_MADS" envDefault:"10"`
	GateConsensusBandText   string           `env:"GATE_CONSENSUS_BAND" envDefault:"0.05"`
	// GateReferenceMaxAge bounds the age of another publisher's rate the
	// gate compares with (0: each publisher's staleness bound from its
	// cadence).
	GateReferenceMaxAge time.Duration `env:"GATE_REFERENCE_MAX_AGE"`
	// PublisherLateAfterDays and PublisherSilentAfterDays are the
	// consecutive publication days without a publication after which a
	// daily publisher is late, and silent (see HealthRule).
	PublisherLateAfterDays   int `env:"PUBLISHER_LATE_AFTER_DAYS" envDefault:"2"`
	PublisherSilentAfterDays int `env:"PUBLISHER_SILENT_AFTER_DAYS" envDefault:"5"`
	// ConversionMargin is parsed from CONVERSION_MARGIN by validate, so that
	// exponent notation is refused (decimal's own text parser accepts it).
	ConversionMargin     decimal.Decimal `env:"-"`
	ConversionMarginText string          `env:"CONVERSION_MARGIN" envDefault:"0"`
	TemporalAddress      string          `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace    string          `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue            string          `env:"TEMPORAL_TASK_QUEUE" envDefault:"ces-ingest"`
	// AuditTaskQueue carries audit sealing and verification, apart from
	// ingestion (TaskQueue).
	AuditTaskQueue string `env:"TEMPORAL_AUDIT_TASK_QUEUE" envDefault:"ces-audit"`
	// WorkerQueues are the queues this worker serves (WORKER_QUEUES:
	// ingest, audit or both), so that an operator can run workers per concern.
	WorkerQueues     []string `env:"-"`
	WorkerQueuesText string   `env:"WORKER_QUEUES" envDefault:"ingest,audit"`
	// IngestInterval, when set, replaces every provider's own cadence
	// (see Cadence) with one fixed interval.
	IngestInterval time.Duration `env:"INGEST_INTERVAL"`
	HTTPAddr       string        `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// RequestTimeout is the deadline of every API request.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"5s"`
	// MetricsAddr is where the worker serves /metrics (the API serves it on ADMIN_ADDR).
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9091"`
	DBMaxConns  int    `env:"DB_MAX_CONNS" envDefault:"16"`
	// DBStatementTimeout and DBLockTimeout bound every statement of the
	// API's and the worker's sessions, and every wait for a lock.
	DBStatementTimeout time.Duration `env:"DB_STATEMENT_TIMEOUT" envDefault:"30s"`
	DBLockTimeout      time.Duration `env:"DB_LOCK_TIMEOUT" envDefault:"5s"`
	// TemporalUIURL is the Temporal Web UI the admin console links runs to.
	TemporalUIURL string `env:"TEMPORAL_UI_URL" envDefault:"http://127.0.0.1:8233"`
	// PprofAddr, when set, serves net/http/pprof there (the API only);
	// keep it on a loopback address.
	PprofAddr string `env:"PPROF_ADDR"`
	// LogLevel is read by the logging package before the configuration
	// (so configuration errors are logged too); it is declared here so it
	// is validated and documented with the rest.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// RateStaleAfter overrides the provider's default staleness threshold
	// (see StaleAfter); zero means "use the provider's default".
	RateStaleAfter time.Duration `env:"RATE_STALE_AFTER"`
	// FromEnvFile names the variables Load took from EnvFile.
	FromEnvFile []string `env:"-"`
	// environ is the environment the configuration was read from (the
	// process's, merged with EnvFile by Load), for the variables that are
	// not CES's own: the Temporal SDK's TEMPORAL_* (see TemporalOptions).
	// Unexported, so that no printing of a Config can show its secrets.
	environ map[string]string
	// ConvertMaxRateAge is the oldest rate a conversion may use; zero means
	// "use the provider's default", which is the staleness threshold.
	ConvertMaxRateAge time.Duration `env:"CONVERT_MAX_RATE_AGE"`
	// RatesPublic lets rate lookups, history and currencies be served
	// without an API key; conversions always need one.
	RatesPublic bool `env:"RATES_PUBLIC" envDefault:"false"`
	// QuotaRatesPerMinute and QuotaConvertPerMinute are each key's default
	// requests per minute under the rates:read and convert scopes (a key
	// may carry its own); 0 turns the quota off.
	QuotaRatesPerMinute   int `env:"QUOTA_RATES_PER_MINUTE" envDefault:"1200"`
	QuotaConvertPerMinute int `env:"QUOTA_CONVERT_PER_MINUTE" envDefault:"120"`
	// QuotaAnonymousPerMinute is each client address's requests per minute
	// without an API key (RATES_PUBLIC=true), counted by each API replica
	// in its own memory; 0 turns it off.
	QuotaAnonymousPerMinute int `env:"QUOTA_ANONYMOUS_PER_MINUTE" envDefault:"600"`
	// CORSAllowOrigins lets browsers on these origins call /api/v1
	// (comma-separated, or "*"); empty: CORS off.
	CORSAllowOrigins string `env:"CORS_ALLOW_ORIGINS"`
	// QuoteTTL is how long a quote holds its price.
	QuoteTTL time.Duration `env:"QUOTE_TTL" envDefault:"30s"`
	// HistoryCacheMB bounds the API's in-memory copy of historical rates
	// (at= and history answers); 0 reads every one from PostgreSQL.
	HistoryCacheMB int `env:"HISTORY_CACHE_MB" envDefault:"64"`
	// AuditSigningKeyFile is the Ed25519 private key (PEM) the worker signs
	// seals with; only the worker reads it (see Signer).
	AuditSigningKeyFile string `env:"AUDIT_SIGNING_KEY_FILE"`
	// AuditAnchorDir is where seals are anchored outside PostgreSQL (the
	// worker writes, verify-audit reads).
	AuditAnchorDir string `env:"AUDIT_ANCHOR_DIR" envDefault:".data/audit-anchor"`
	// IdempotencyKeyRetention is how long a conversion's idempotency key
	// keeps naming its receipt; the worker forgets older keys as it seals.
	IdempotencyKeyRetention time.Duration `env:"IDEMPOTENCY_KEY_RETENTION" envDefault:"720h"`

	// Listeners and proxies (see listeners.go).
	//
	// AdminAddr is where the API serves the admin console (/admin) and its
	// /metrics, apart from the public API on HTTPAddr; loopback by default.
	AdminAddr string `env:"ADMIN_ADDR" envDefault:"127.0.0.1:8081"`
	// TrustedProxies are the networks whose peers' X-Forwarded-For names
	// the client (TRUSTED_PROXIES: comma-separated CIDRs or addresses;
	// empty: none, the peer is the client), parsed by validateListeners.
	TrustedProxies     []netip.Prefix `env:"-"`
	TrustedProxiesText string         `env:"TRUSTED_PROXIES"`
}

// EnvFile is where `make up` leaves the environment the stack runs with
// (mode 0600), relative to the repository root.
const EnvFile = ".data/env"

// Load reads the configuration from the process environment. When the
// working directory holds EnvFile, the variables it sets that the
// environment leaves unset are taken from it, so the README's commands
// work in a second terminal while `make up` runs; Config.FromEnvFile
// names them (never their values).
func Load() (Config, error) {
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		environ[k] = v
	}
	var fromFile []string
	if b, err := os.ReadFile(EnvFile); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || k == "" || strings.HasPrefix(k, "#") {
				continue
			}
			if _, set := environ[k]; !set {
				environ[k] = v
				fromFile = append(fromFile, k)
			}
		}
	}
	c, err := LoadFrom(environ)
	if err != nil && len(fromFile) > 0 {
		return c, fmt.Errorf("%w (some variables came from %s)", err, EnvFile)
	}
	c.FromEnvFile = fromFile
	return c, err
}

// LoadFrom reads the configuration from environ (KEY → value); a nil map
// means the process environment. Tests use it to avoid touching os.Setenv.
func LoadFrom(environ map[string]string) (Config, error) {
	var opts env.Options
	if environ != nil {
		opts.Environment = environ
	}
	var c Config
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return Config{}, describe(err)
	}
	c.environ = environ
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// OTelEnviron returns the OpenTelemetry SDK's variables (OTEL_*) of the
// environment Load read, for tracing.Setup: an env file's count as the
// process's do. Nil when the configuration came from the process alone.
func (c Config) OTelEnviron() map[string]string {
	if c.environ == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range c.environ {
		if strings.HasPrefix(k, "OTEL_") {
			out[k] = v
		}
	}
	return out
}

// TemporalOptions returns how to reach Temporal: the SDK's TEMPORAL_*
// variables and temporal CLI profile (TLS, mutual TLS, API key, server
// name) read from the environment Load read, with TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE's
// defaults for what they leave unset.
func (c Config) TemporalOptions() (client.Options, error) {
	return temporalconn.Options(c.environ, c.TemporalAddress, c.TemporalNamespace)
}

// describe turns the first caarlos0/env error into one line naming the
// environment variable. Values are never echoed: only typed fields (numbers,
// durations, decimals) can fail to parse, and none of them is a secret.
func describe(err error) error {
	var agg env.AggregateError
	if errors.As(err, &agg) && len(agg.Errors) > 0 {
		err = agg.Errors[0]
	}
	var notSet env.VarIsNotSetError
	var empty env.EmptyVarError
	var parse env.ParseError
	switch {
	case errors.As(err, &notSet):
		return fmt.Errorf("config: %s is required but not set", notSet.Key)
	case errors.As(err, &empty):
		return fmt.Errorf("config: %s is required but empty", empty.Key)
	case errors.As(err, &parse):
		key := parse.Name
		if f, ok := reflect.TypeOf(Config{}).FieldByName(parse.Name); ok {
			key, _, _ = strings.Cut(f.Tag.Get("env"), ",")
		}
		return fmt.Errorf("config: %s is malformed: %s", key, parseReason(parse.Type))
	}
	return fmt.Errorf("config: %w", err)
}

func parseReason(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(time.Duration(0)):
		return "want a Go duration such as 90s, 15m or 1h"
	}
	return "want a " + t.String()
}

func (c *Config) validate() error {
	if err := checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql"); err != nil {
		return err
	}
	if err := checkURL("REDIS_URL", c.RedisURL, "redis", "rediss"); err != nil {
		return err
	}
	if c.RedisCluster && c.RedisSentinelMaster != "" {
		return errors.New("config: REDIS_CLUSTER and REDIS_SENTINEL_MASTER exclude each other: a Sentinel group manages one primary, a cluster has its own failover")
	}
	if err := c.validateProviders(); err != nil {
		return err
	}
	m, err := decimal.NewFromString(c.ConversionMarginText)
	if err != nil || strings.ContainsAny(c.ConversionMarginText, "eE") {
		return errors.New("config: CONVERSION_MARGIN is malformed: want a plain decimal number such as 0.005")
	}
	c.ConversionMargin = m
	if c.ConversionMargin.IsNegative() || c.ConversionMargin.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return fmt.Errorf("config: CONVERSION_MARGIN is malformed: %s is outside [0, 1)", c.ConversionMargin)
	}
	if c.IngestInterval != 0 && c.IngestInterval < time.Minute {
		return fmt.Errorf("config: INGEST_INTERVAL is malformed: %s is shorter than 1m", c.IngestInterval)
	}
	if c.RequestTimeout < 100*time.Millisecond || c.RequestTimeout > 5*time.Minute {
		return fmt.Errorf("config: REQUEST_TIMEOUT is malformed: %s is outside 100ms to 5m", c.RequestTimeout)
	}
	if c.FXHTTPTimeout < time.Second || c.FXHTTPTimeout > 40*time.Second {
		return fmt.Errorf("config: FX_HTTP_TIMEOUT is malformed: %s is outside 1s to 40s (FetchRates gives up after 45s)", c.FXHTTPTimeout)
	}
	if c.RateStaleAfter < 0 {
		return errors.New("config: RATE_STALE_AFTER is malformed: negative")
	}
	if c.PublisherLateAfterDays < 1 || c.PublisherLateAfterDays > 30 {
		return errors.New("config: PUBLISHER_LATE_AFTER_DAYS is malformed: want 1 to 30 business days")
	}
	if c.PublisherSilentAfterDays != 0 && (c.PublisherSilentAfterDays <= c.PublisherLateAfterDays || c.PublisherSilentAfterDays > 60) {
		return fmt.Errorf("config: PUBLISHER_SILENT_AFTER_DAYS is malformed: want 0 (never silent) or more than PUBLISHER_LATE_AFTER_DAYS (%d) and at most 60 business days", c.PublisherLateAfterDays)
	}
	if c.ConvertMaxRateAge < 0 {
		return errors.New("config: CONVERT_MAX_RATE_AGE is malformed: negative")
	}
	switch c.LogLevel {
	case "debug", "info":
	default:
		return fmt.Errorf("config: LOG_LEVEL is malformed: %q is not one of info, debug", c.LogLevel)
	}
	if c.BackfillMaxInFlight < 1 || c.BackfillMaxInFlight > 64 {
		return errors.New("config: BACKFILL_MAX_IN_FLIGHT is malformed: want 1 to 64")
	}
	if c.DBStatementTimeout < time.Second || c.DBLockTimeout < 100*time.Millisecond {
		return errors.New("config: DB_STATEMENT_TIMEOUT (at least 1s) or DB_LOCK_TIMEOUT (at least 100ms) is malformed")
	}
	if c.IdempotencyKeyRetention < time.Hour {
		return errors.New("config: IDEMPOTENCY_KEY_RETENTION is malformed: want at least 1h")
	}
	if c.QuoteTTL < time.Second || c.QuoteTTL > time.Hour {
		return fmt.Errorf("config: QUOTE_TTL is malformed: %s is outside 1s to 1h", c.QuoteTTL)
	}
	if c.HistoryCacheMB < 0 || c.HistoryCacheMB > 4096 {
		return fmt.Errorf("config: HISTORY_CACHE_MB is malformed: %d is outside 0 to 4096", c.HistoryCacheMB)
	}
	if c.QuotaRatesPerMinute < 0 || c.QuotaConvertPerMinute < 0 {
		return errors.New("config: QUOTA_RATES_PER_MINUTE and QUOTA_CONVERT_PER_MINUTE are malformed: want 0 (off) or more")
	}
	if c.QuotaAnonymousPerMinute < 0 || c.QuotaAnonymousPerMinute > 6_000_000 {
		return errors.New("config: QUOTA_ANONYMOUS_PER_MINUTE is malformed: want 0 (off) to 6000000")
	}
	if c.DBMaxConns < 1 {
		return errors.New("config: DB_MAX_CONNS is malformed: want at least 1")
	}
	if c.TemporalAddress == "" || c.TemporalNamespace == "" || c.HTTPAddr == "" || c.TaskQueue == "" || c.AuditTaskQueue == "" {
		return errors.New("config: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_AUDIT_TASK_QUEUE and HTTP_ADDR must not be empty")
	}
	if c.AuditTaskQueue == c.TaskQueue {
		return errors.New("config: TEMPORAL_AUDIT_TASK_QUEUE is malformed: it must differ from TEMPORAL_TASK_QUEUE")
	}
	if err := c.validateListeners(); err != nil {
		return err
	}
	c.WorkerQueues = nil
	for _, q := range strings.Split(c.WorkerQueuesText, ",") {
		q = strings.TrimSpace(q)
		if q != QueueIngest && q != QueueAudit {
			return fmt.Errorf("config: WORKER_QUEUES is malformed: %q is not ingest or audit", q)
		}
		if !slices.Contains(c.WorkerQueues, q) {
			c.WorkerQueues = append(c.WorkerQueues, q)
		}
	}
	return nil
}

// validateProviders parses FX_PROVIDERS (or FX_PROVIDER) and
// FX_SOURCE_PRIORITY and checks each provider has what it needs.
func (c *Config) validateProviders() error {
	key, text := "FX_PROVIDERS", c.FXProvidersText
	switch {
	case text != "" && c.FXProvider != "":
		return errors.New("config: FX_PROVIDER and FX_PROVIDERS are both set: keep FX_PROVIDERS only")
	case text == "" && c.FXProvider != "":
		key, text = "FX_PROVIDER", c.FXProvider
	case text == "":
		// Every publisher that needs no key, and each keyed one whose key
		// is set.
		text = Keyless
	}
	text = c.expandKeyless(text)
	list, err := providerList(key, text)
	if err != nil {
		return err
	}
	c.FXProviders = list
	c.FXProvider = list[0]
	for _, p := range list {
		switch p {
		case ProviderFile:
			if c.FXFile == "" {
				return fmt.Errorf("config: FX_FILE is required when %s lists file", key)
			}
		default:
			// A keyed publisher (Open Exchange Rates: FX_API_KEY) needs its key.
			if pub, _ := catalog.Lookup(p); !pub.Keyless() && c.lookup(pub.KeyEnv) == "" {
				return fmt.Errorf("config: %s is required when %s lists %s", pub.KeyEnv, key, p)
			}
		}
	}
	if c.FXBaseURL != "" && len(list) > 1 {
		return fmt.Errorf("config: FX_BASE_URL is ambiguous with %d providers: use FX_<NAME>_BASE_URL (for example FX_ECB_BASE_URL)", len(list))
	}
	for _, u := range []struct{ key, val string }{
		{"FX_BASE_URL", c.FXBaseURL}, {"FX_ECB_BASE_URL", c.FXECBBaseURL},
		{"FX_CBN_BASE_URL", c.FXCBNBaseURL}, {"FX_OPENEXCHANGERATES_BASE_URL", c.FXOXRBaseURL},
	} {
		if u.val != "" {
			if err := checkURL(u.key, u.val, "http", "https", "file"); err != nil {
				return err
			}
		}
	}
	for _, p := range list {
		if u := c.publisherBaseURL(p); u != "" {
			if err := checkURL(baseURLVar(p), u, "http", "https", "file"); err != nil {
				return err
			}
		}
	}
	// Without FX_SOURCE_PRIORITY the default source policy (the issuer of
	// each currency first, see policy.Authority) decides, not an order.
	c.SourcePriority = nil
	if c.SourcePriorityText != "" {
		prio, err := providerList("FX_SOURCE_PRIORITY", c.SourcePriorityText)
		if err != nil {
			return err
		}
		for _, p := range prio {
			if !slices.Contains(list, p) {
				return fmt.Errorf("config: FX_SOURCE_PRIORITY is malformed: %s is not in %s", p, key)
			}
		}
		// Configured providers left out of the priority come last, in order.
		for _, p := range list {
			if !slices.Contains(prio, p) {
				prio = append(prio, p)
			}
		}
		c.SourcePriority = prio
	}
	lim, err := decimal.NewFromString(c.RateJumpLimitText)
	if err != nil || strings.ContainsAny(c.RateJumpLimitText, "eE") || !lim.IsPositive() {
		return errors.New("config: RATE_JUMP_LIMIT is malformed: want a positive decimal such as 0.25 (a relative change)")
	}
	c.RateJumpLimit = lim
	if c.GateConsensusPublishers < 2 || c.GateConsensusPublishers > 100 {
		return errors.New("config: GATE_CONSENSUS_MIN_PUBLISHERS is malformed: want 2 to 100 publishers (the row's own included)")
	}
	mads, err := decimal.NewFromString(c.GateConsensusMADsText)
	if err != nil || strings.ContainsAny(c.GateConsensusMADsText, "eE") || mads.IsNegative() {
		return errors.New("config: GATE_CONSENSUS_MADS is malformed: want a non-negative decimal such as 10")
	}
	band, err := decimal.NewFromString(c.GateConsensusBandText)
	if err != nil || strings.ContainsAny(c.GateConsensusBandText, "eE") || !band.IsPositive() || !band.LessThan(decimal.NewFromInt(1)) {
		return errors.New("config: GATE_CONSENSUS_BAND is malformed: want a decimal between 0 and 1 such as 0.05 (a relative distance)")
	}
	c.GateConsensus = policy.Consensus{MinOthers: c.GateConsensusPublishers - 1, MADs: mads, Band: band}
	if c.GateReferenceMaxAge < 0 {
		return errors.New("config: GATE_REFERENCE_MAX_AGE is malformed: want a positive duration such as 96h, or nothing for each publisher's cadence")
	}
	return nil
}

// expandKeyless replaces the word keyless in an FX_PROVIDERS list with
// the catalogue's keyless publishers, and the keyed ones whose key
// variable is set.
func (c *Config) expandKeyless(text string) string {
	var out []string
	for _, p := range strings.Split(text, ",") {
		if strings.ToLower(strings.TrimSpace(p)) != Keyless {
			out = append(out, p)
			continue
		}
		for _, pub := range catalog.All() {
			if pub.Keyless() || c.lookup(pub.KeyEnv) != "" {
				out = append(out, pub.Key)
			}
		}
	}
	return strings.Join(out, ",")
}

// lookup reads a variable of the environment the configuration is read
// from.
func (c *Config) lookup(name string) string {
	if c.environ != nil {
		return c.environ[name]
	}
	return os.Getenv(name)
}

// APIKey is the key of a keyed catalogue publisher, read from the
// variable its entry names (FX_API_KEY for Open Exchange Rates); "" for
// a keyless one. Never log it.
func (c Config) APIKey(provider string) string {
	pub, ok := catalog.Lookup(provider)
	if !ok || pub.Keyless() {
		return ""
	}
	return c.lookup(pub.KeyEnv)
}

// baseURLVar names the endpoint override of a catalogue publisher.
func baseURLVar(provider string) string {
	return "FX_" + strings.ToUpper(provider) + "_BASE_URL"
}

// publisherBaseURL is FX_<KEY>_BASE_URL of a catalogue publisher that
// has no field of its own in Config.
func (c *Config) publisherBaseURL(provider string) string {
	switch provider {
	case ProviderECB, ProviderCBN, ProviderOpenExchangeRates, ProviderFile:
		return ""
	}
	return c.lookup(baseURLVar(provider))
}

// providerList parses a comma-separated list of provider names, refusing
// unknown names, duplicates and an empty list.
func providerList(key, text string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(text, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !slices.Contains(KnownProviders, p) {
			return nil, fmt.Errorf("config: %s is malformed: %q is not one of %s", key, p, strings.Join(KnownProviders, ", "))
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("config: %s is malformed: %s is listed twice", key, p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("config: %s is malformed: the list is empty", key)
	}
	return out, nil
}

// BaseURL is the endpoint override of provider ("" for its default).
func (c Config) BaseURL(provider string) string {
	var u string
	switch provider {
	case ProviderECB:
		u = c.FXECBBaseURL
	case ProviderCBN:
		u = c.FXCBNBaseURL
	case ProviderOpenExchangeRates:
		u = c.FXOXRBaseURL
	default:
		u = c.publisherBaseURL(provider)
	}
	if u == "" && len(c.FXProviders) == 1 && c.FXProviders[0] == provider {
		u = c.FXBaseURL
	}
	return u
}

// Cadence is when a provider's ingestion schedule fires: a fixed
// Interval, or cron expressions (UTC) that follow its publication rhythm.
type Cadence struct {
	Interval time.Duration
	Cron     []string
}

// String describes the cadence for logs.
func (c Cadence) String() string {
	if c.Interval > 0 {
		return "every " + c.Interval.String()
	}
	return "cron " + strings.Join(c.Cron, "; ")
}

// Cadence returns provider's schedule. INGEST_INTERVAL replaces them all.
func (c Config) Cadence(provider string) Cadence {
	if c.IngestInterval > 0 {
		return Cadence{Interval: c.IngestInterval}
	}
	// Each publisher is polled across the hours after its usual
	// publication (the catalogue's schedule): the ECB at about 16:00 CET on
	// TARGET working days, the CBN during the Lagos business day.
	if p, ok := catalog.Lookup(provider); ok && len(p.Schedule) > 0 {
		return Cadence{Cron: p.Schedule}
	}
	// Open Exchange Rates updates hourly; a file is re-read hourly.
	return Cadence{Interval: time.Hour}
}

// checkURL validates a URL without ever putting it, or the parser's error
// (which quotes the input), into the returned error.
func checkURL(key, raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("config: %s is malformed: not a URL", key)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" && u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "file" {
				return fmt.Errorf("config: %s is malformed: no host", key)
			}
			return nil
		}
	}
	return fmt.Errorf("config: %s is malformed: scheme must be one of %s", key, strings.Join(schemes, ", "))
}

// StaleAfter is how old the newest rate of provider may grow before CES
// marks it stale. The defaults follow each provider's publication rhythm:
// the ECB publishes once per TARGET working day, so a Friday rate is still
// current on Monday morning; Open Exchange Rates updates hourly.
func (c Config) StaleAfter(provider string) time.Duration {
	p, ok := catalog.Lookup(provider)
	if ok && p.Cadence == catalog.Fixed {
		// A legal peg holds until its authority changes it, however old.
		return p.StaleAfter()
	}
	if c.RateStaleAfter > 0 {
		return c.RateStaleAfter
	}
	// From the publisher's cadence (catalog.Publisher.StaleAfter): a daily
	// publisher's Friday rate is current until Monday's, plus a holiday.
	if ok {
		return p.StaleAfter()
	}
	// The offline demo's file, like a daily publisher.
	return 4*24*time.Hour + time.Hour
}

// HealthRule is the rule publisher health checks apply: the default's,
// with a daily publisher's bounds from PUBLISHER_LATE_AFTER_DAYS and
// PUBLISHER_SILENT_AFTER_DAYS, whose 0 makes no publisher of any cadence
// silent.
func (c Config) HealthRule() policy.HealthRule {
	r := policy.DefaultHealthRule
	r.LateAfterDays, r.SilentAfterDays = c.PublisherLateAfterDays, c.PublisherSilentAfterDays
	if c.PublisherSilentAfterDays == 0 {
		r.SilentAfterHours, r.SilentAfterPeriods = 0, 0
	}
	return r
}

// MaxConvertAge is the oldest rate a conversion may be priced from.
func (c Config) MaxConvertAge(provider string) time.Duration {
	if p, ok := catalog.Lookup(provider); ok && p.Cadence == catalog.Fixed {
		return p.StaleAfter()
	}
	if c.ConvertMaxRateAge > 0 {
		return c.ConvertMaxRateAge
	}
	return c.StaleAfter(provider)
}

// RedactURL returns raw with any password replaced, for logs. A URL that
// does not parse is replaced whole, since it may still hold a secret.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable URL redacted]"
	}
	return u.Redacted()
}

// String keeps secrets out of any log line or error that prints a Config.
func (c Config) String() string {
	return fmt.Sprintf("Config{DatabaseURL:%s RedisURL:%s RedisCluster:%t RedisSentinelMaster:%s RedisSentinelPassword:%s FXProviders:%s FXBaseURL:%s FXFile:%s FXAPIKey:%s ConversionMargin:%s TemporalAddress:%s TemporalNamespace:%s IngestInterval:%s HTTPAddr:%s}",
		RedactURL(c.DatabaseURL), RedactURL(c.RedisURL), c.RedisCluster, c.RedisSentinelMaster, redactSecret(c.RedisSentinelPassword), strings.Join(c.FXProviders, ","), RedactURL(c.FXBaseURL), c.FXFile,
		redactSecret(c.FXAPIKey), c.ConversionMargin, c.TemporalAddress, c.TemporalNamespace, c.IngestInterval, c.HTTPAddr)
}

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}
