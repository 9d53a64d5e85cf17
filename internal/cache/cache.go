// Package cache is the only package that speaks Redis. Redis holds, for
// each (provider, base, quote), the latest stored rate with its id, value,
// as_of and fetched_at, with no expiry: it is the last known good value,
// served while a provider is failing.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// Timeouts bound every Redis call, so a slow Redis turns into a quick
// error the caller can fall back from rather than a stuck request.
type Timeouts struct {
	Dial, Read, Write time.Duration
}

// APITimeouts suit the read path: a lookup would rather fall back to
// PostgreSQL than wait.
var APITimeouts = Timeouts{Dial: 250 * time.Millisecond, Read: 100 * time.Millisecond, Write: 100 * time.Millisecond}

// WorkerTimeouts suit activities, which are retried anyway.
var WorkerTimeouts = Timeouts{Dial: 2 * time.Second, Read: 2 * time.Second, Write: 2 * time.Second}

// slogPrinter routes go-redis's internal messages (dial failures, pool
// events) to slog at debug level: callers already report Redis failures
// once, with context, and an outage must not flood the logs.
type slogPrinter struct{}

func (slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

func init() { redis.SetLogger(slogPrinter{}) }

// NewClient returns a go-redis client for url with explicit timeouts that
// also honour context deadlines. Errors never quote url.
func NewClient(url string, t Timeouts) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("cache: REDIS_URL is not a valid Redis URL")
	}
	opts.DialTimeout = t.Dial
	opts.ReadTimeout = t.Read
	opts.WriteTimeout = t.Write
	opts.ContextTimeoutEnabled = true
	// No silent retries: callers fall back (API) or are retried by Temporal (worker).
	opts.MaxRetries = -1
	return redis.NewClient(opts), nil
}

// Cache reads and writes the latest-rate cache.
type Cache struct {
	rdb    *redis.Client
	prefix string
}

// New returns a Cache whose keys all start with prefix ("ces:" in
// production; tests use their own so they can share a Redis).
func New(rdb *redis.Client, prefix string) *Cache {
	return &Cache{rdb: rdb, prefix: prefix}
}

func (c *Cache) ratesKey(provider, base string) string {
	return c.prefix + "rates:" + provider + ":" + base
}

func (c *Cache) baseKey(provider string) string { return c.prefix + "base:" + provider }

// UpdatesChannel is the pub/sub channel that carries the provider name
// whenever SetLatest changed something.
func (c *Cache) UpdatesChannel() string { return c.prefix + "rates:updated" }

// encode packs a rate as "asOfMillis|id|rate|fetchedAtMillis". as_of comes
// first so the Lua script can compare it without decoding the rest.
func encode(r fx.Rate) string {
	return strconv.FormatInt(r.AsOf.UnixMilli(), 10) + "|" + strconv.FormatInt(r.ID, 10) + "|" +
		fx.Exact(r.Value) + "|" + strconv.FormatInt(r.FetchedAt.UnixMilli(), 10)
}

func decode(provider, base, quote, v string) (fx.Rate, error) {
	parts := strings.Split(v, "|")
	if len(parts) != 4 {
		return fx.Rate{}, fmt.Errorf("cache: malformed entry for %s %s/%s", provider, base, quote)
	}
	asOf, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[1], 10, 64)
	val, err3 := decimal.NewFromString(parts[2])
	fetched, err4 := strconv.ParseInt(parts[3], 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fx.Rate{}, fmt.Errorf("cache: malformed entry for %s %s/%s: %w", provider, base, quote, err)
	}
	return fx.Rate{
		ID: id, Provider: provider, Base: base, Quote: quote, Value: val,
		AsOf: time.UnixMilli(asOf).UTC(), FetchedAt: time.UnixMilli(fetched).UTC(),
	}, nil
}

// setLatest writes each quote only if the cache holds nothing for it or
// something strictly older, in one atomic step, so a backfill or a late
// retry can never replace what readers see with an older rate. The base
// key follows the newest write. Millisecond epochs fit Lua's doubles exactly.
var setLatest = redis.NewScript(`
local updated = 0
for i = 2, #ARGV, 2 do
  local quote, value = ARGV[i], ARGV[i + 1]
  local newAsOf = tonumber(string.match(value, '^(%d+)|'))
  local old = redis.call('HGET', KEYS[1], quote)
  if (not old) or tonumber(string.match(old, '^(%d+)|')) < newAsOf then
    redis.call('HSET', KEYS[1], quote, value)
    updated = updated + 1
  end
end
if updated > 0 or redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[1])
end
return updated
`)

// SetLatest caches rates (all of provider against base) where they are
// newer than what is cached, announces the change on UpdatesChannel, and
// returns how many quotes it replaced.
func (c *Cache) SetLatest(ctx context.Context, provider, base string, rates []fx.Rate) (int, error) {
	if len(rates) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 1+2*len(rates))
	args = append(args, base)
	for _, r := range rates {
		args = append(args, r.Quote, encode(r))
	}
	n, err := setLatest.Run(ctx, c.rdb, []string{c.ratesKey(provider, base), c.baseKey(provider)}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("cache: set latest %s/%s: %w", provider, base, err)
	}
	if n > 0 {
		if err := c.rdb.Publish(ctx, c.UpdatesChannel(), provider).Err(); err != nil {
			return n, fmt.Errorf("cache: announce update of %s: %w", provider, err)
		}
	}
	return n, nil
}

// ErrMiss is returned when the cache does not hold what was asked.
var ErrMiss = errors.New("cache: miss")

// Base returns the provider's base currency, or ErrMiss.
func (c *Cache) Base(ctx context.Context, provider string) (string, error) {
	b, err := c.rdb.Get(ctx, c.baseKey(provider)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrMiss
	}
	if err != nil {
		return "", fmt.Errorf("cache: base of %s: %w", provider, err)
	}
	return b, nil
}

// Latest returns the cached rates base→quote for the given quotes in one
// round trip. A quote the cache lacks is absent from the map.
func (c *Cache) Latest(ctx context.Context, provider, base string, quotes ...string) (map[string]fx.Rate, error) {
	vals, err := c.rdb.HMGet(ctx, c.ratesKey(provider, base), quotes...).Result()
	if err != nil {
		return nil, fmt.Errorf("cache: latest %s/%s: %w", provider, base, err)
	}
	out := make(map[string]fx.Rate, len(quotes))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		r, err := decode(provider, base, quotes[i], s)
		if err != nil {
			return nil, err
		}
		out[quotes[i]] = r
	}
	return out, nil
}

// All returns every cached rate of provider against base.
func (c *Cache) All(ctx context.Context, provider, base string) (map[string]fx.Rate, error) {
	vals, err := c.rdb.HGetAll(ctx, c.ratesKey(provider, base)).Result()
	if err != nil {
		return nil, fmt.Errorf("cache: all %s/%s: %w", provider, base, err)
	}
	out := make(map[string]fx.Rate, len(vals))
	for q, v := range vals {
		r, err := decode(provider, base, q, v)
		if err != nil {
			return nil, err
		}
		out[q] = r
	}
	return out, nil
}

// Ping checks that Redis answers.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cache: ping: %w", err)
	}
	return nil
}

// Watch calls onUpdate with the provider name of every SetLatest that
// changed something, until ctx ends. go-redis resubscribes after a lost
// connection; announcements made meanwhile are lost, which is why readers
// of a near cache also bound its age.
func (c *Cache) Watch(ctx context.Context, onUpdate func(provider string)) {
	sub := c.rdb.Subscribe(ctx, c.UpdatesChannel())
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			onUpdate(msg.Payload)
		}
	}
}
