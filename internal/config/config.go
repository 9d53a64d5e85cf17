// Package config parses the process environment once, at start, into a
// Config. Every failure names the variable and what is wrong with it, and no
// error or log line ever carries FX_API_KEY or a password inside a URL.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/shopspring/decimal"
)

// Provider names accepted in FX_PROVIDER.
const (
	ProviderECB               = "ecb"
	ProviderOpenExchangeRates = "openexchangerates"
	ProviderFile              = "file"
)

// Config is the whole configuration of the CES processes.
type Config struct {
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`
	RedisURL    string `env:"REDIS_URL,required,notEmpty"`
	FXAPIKey    string `env:"FX_API_KEY"`
	FXProvider  string `env:"FX_PROVIDER"`
	FXBaseURL   string `env:"FX_BASE_URL"`
	FXFile      string `env:"FX_FILE"`
	// ConversionMargin is parsed from CONVERSION_MARGIN by validate, so that
	// exponent notation is refused (decimal's own text parser accepts it).
	ConversionMargin     decimal.Decimal `env:"-"`
	ConversionMarginText string          `env:"CONVERSION_MARGIN" envDefault:"0"`
	TemporalAddress      string          `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace    string          `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue            string          `env:"TEMPORAL_TASK_QUEUE" envDefault:"ces-ingest"`
	IngestInterval       time.Duration   `env:"INGEST_INTERVAL" envDefault:"1h"`
	HTTPAddr             string          `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// MetricsAddr is where the worker serves /metrics (the API serves it on HTTP_ADDR).
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9091"`
	DBMaxConns  int    `env:"DB_MAX_CONNS" envDefault:"16"`
	// TemporalUIURL is the Temporal Web UI the admin console links runs to.
	TemporalUIURL string `env:"TEMPORAL_UI_URL" envDefault:"http://127.0.0.1:8233"`
	// PprofAddr, when set, serves net/http/pprof there (api and worker);
	// keep it on a loopback address.
	PprofAddr string `env:"PPROF_ADDR"`
	// LogLevel is read by the logging package before the configuration
	// (so configuration errors are logged too); it is declared here so it
	// is validated and documented with the rest.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// RateStaleAfter overrides the provider's default staleness threshold
	// (see StaleAfter); zero means "use the provider's default".
	RateStaleAfter time.Duration `env:"RATE_STALE_AFTER"`
	// ConvertMaxRateAge is the oldest rate a conversion may use; zero means
	// "use the provider's default", which is the staleness threshold.
	ConvertMaxRateAge time.Duration `env:"CONVERT_MAX_RATE_AGE"`
}

// Load reads the configuration from the process environment.
func Load() (Config, error) {
	return LoadFrom(nil)
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
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
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
	if c.FXProvider == "" {
		c.FXProvider = ProviderECB
		if c.FXAPIKey != "" {
			c.FXProvider = ProviderOpenExchangeRates
		}
	}
	switch c.FXProvider {
	case ProviderECB:
	case ProviderOpenExchangeRates:
		if c.FXAPIKey == "" {
			return errors.New("config: FX_API_KEY is required when FX_PROVIDER is openexchangerates")
		}
	case ProviderFile:
		if c.FXFile == "" {
			return errors.New("config: FX_FILE is required when FX_PROVIDER is file")
		}
	default:
		return fmt.Errorf("config: FX_PROVIDER is malformed: %q is not one of ecb, openexchangerates, file", c.FXProvider)
	}
	if c.FXBaseURL != "" {
		if err := checkURL("FX_BASE_URL", c.FXBaseURL, "http", "https"); err != nil {
			return err
		}
	}
	m, err := decimal.NewFromString(c.ConversionMarginText)
	if err != nil || strings.ContainsAny(c.ConversionMarginText, "eE") {
		return errors.New("config: CONVERSION_MARGIN is malformed: want a plain decimal number such as 0.005")
	}
	c.ConversionMargin = m
	if c.ConversionMargin.IsNegative() || c.ConversionMargin.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return fmt.Errorf("config: CONVERSION_MARGIN is malformed: %s is outside [0, 1)", c.ConversionMargin)
	}
	if c.IngestInterval < time.Minute {
		return fmt.Errorf("config: INGEST_INTERVAL is malformed: %s is shorter than 1m", c.IngestInterval)
	}
	if c.RateStaleAfter < 0 {
		return errors.New("config: RATE_STALE_AFTER is malformed: negative")
	}
	if c.ConvertMaxRateAge < 0 {
		return errors.New("config: CONVERT_MAX_RATE_AGE is malformed: negative")
	}
	switch c.LogLevel {
	case "debug", "info":
	default:
		return fmt.Errorf("config: LOG_LEVEL is malformed: %q is not one of info, debug", c.LogLevel)
	}
	if c.DBMaxConns < 1 {
		return errors.New("config: DB_MAX_CONNS is malformed: want at least 1")
	}
	if c.TemporalAddress == "" || c.TemporalNamespace == "" || c.HTTPAddr == "" || c.TaskQueue == "" {
		return errors.New("config: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE and HTTP_ADDR must not be empty")
	}
	return nil
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
			if u.Host == "" && u.Scheme != "postgres" && u.Scheme != "postgresql" {
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
	if c.RateStaleAfter > 0 {
		return c.RateStaleAfter
	}
	switch provider {
	case ProviderECB:
		// Friday 16:00 CET to Monday 16:00 CET plus an hour's slack, and a
		// TARGET holiday on the Monday (Easter) adds one more day.
		return 4*24*time.Hour + time.Hour
	case ProviderOpenExchangeRates:
		return 3 * time.Hour
	}
	return 4*24*time.Hour + time.Hour
}

// MaxConvertAge is the oldest rate a conversion may be priced from.
func (c Config) MaxConvertAge(provider string) time.Duration {
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
	return fmt.Sprintf("Config{DatabaseURL:%s RedisURL:%s FXProvider:%s FXBaseURL:%s FXFile:%s FXAPIKey:%s ConversionMargin:%s TemporalAddress:%s TemporalNamespace:%s IngestInterval:%s HTTPAddr:%s}",
		RedactURL(c.DatabaseURL), RedactURL(c.RedisURL), c.FXProvider, RedactURL(c.FXBaseURL), c.FXFile,
		redactSecret(c.FXAPIKey), c.ConversionMargin, c.TemporalAddress, c.TemporalNamespace, c.IngestInterval, c.HTTPAddr)
}

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}
