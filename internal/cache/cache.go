// Package cache is the only package that speaks Redis. Redis holds, for
// each (provider, base, quote), the latest released rate with its id,
// value, as_of and fetched_at, with no expiry: it is the last known good
// value, served while a provider is failing, and which workflow run wrote
// it. It also holds the set of suspended pairs and the series whose newest
// publication the quality gate holds.
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
	"ces/internal/policy"
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

// Cache reads and writes the latest-rate cache.
type Cache struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Cache whose keys all start with prefix ("ces:" in
// production; tests use their own so they can share a Redis).
func New(rdb redis.UniversalClient, prefix string) *Cache {
	return &Cache{rdb: rdb, prefix: prefix}
}

// latestKey holds one provider's latest rates, one field per series
// ("EUR/USD"): the CBN publishes against NGN under many bases.
func (c *Cache) latestKey(provider string) string { return c.prefix + "latest:" + provider }

// writerKey holds, for each field of latestKey, the writer that put its
// value there (see SetLatest); readers of the cache never look at it.
// The scripts touch both keys at once, so in a Redis Cluster they must
// sit in one hash slot: the writer key's hash tag (the part in braces)
// is the whole name of the latest key, which has no braces and so hashes
// as itself. The latest key keeps the name it had before clusters were
// supported, so an upgrade finds the cached rates where readers look.
func (c *Cache) writerKey(provider string) string {
	return c.prefix + "latest-writer:{" + c.latestKey(provider) + "}"
}

func (c *Cache) suspensionsKey() string { return c.prefix + "suspended" }

// heldKey holds the series whose newest publication the quality gate
// holds, one field per series ("ecb EUR/JPY") valued with that
// publication's as_of (Unix milliseconds).
func (c *Cache) heldKey() string { return c.prefix + "held" }

// UpdatesChannel is the pub/sub channel that carries the provider name
// whenever SetLatest changed something, or a retry of it found what an
// earlier attempt changed ("" for suspensions).
func (c *Cache) UpdatesChannel() string { return c.prefix + "rates:updated" }

// encode packs a rate as "asOfMillis|id|rate|fetchedAtMillis". as_of comes
// first so the Lua script can compare it without decoding the rest.
func encode(r fx.Rate) string {
	return strconv.FormatInt(r.AsOf.UnixMilli(), 10) + "|" + strconv.FormatInt(r.ID, 10) + "|" +
		fx.Exact(r.Value) + "|" + strconv.FormatInt(r.FetchedAt.UnixMilli(), 10)
}

// FutureSkew is how far ahead of this process's clock a cached as_of may
// be: beyond it the entry is refused when read, since no provider
// publishes from the future and such an entry (a restore that left Redis
// ahead of PostgreSQL, a hand edit) would otherwise never be replaced.
const FutureSkew = 5 * time.Minute

// ErrFutureEntry marks a cached rate dated beyond FutureSkew.
var ErrFutureEntry = errors.New("cache: entry dated in the future")

func decode(provider, field, v string, now time.Time) (fx.Rate, error) {
	base, quote, ok := strings.Cut(field, "/")
	parts := strings.Split(v, "|")
	if !ok || len(parts) != 4 {
		return fx.Rate{}, fmt.Errorf("cache: malformed entry for %s %s", provider, field)
	}
	asOf, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[1], 10, 64)
	val, err3 := decimal.NewFromString(parts[2])
	fetched, err4 := strconv.ParseInt(parts[3], 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fx.Rate{}, fmt.Errorf("cache: malformed entry for %s %s: %w", provider, field, err)
	}
	if t := time.UnixMilli(asOf); t.After(now.Add(FutureSkew)) {
		return fx.Rate{}, fmt.Errorf("%w: %s %s as of %s", ErrFutureEntry, provider, field, t.UTC().Format(time.RFC3339))
	}
	return fx.Rate{
		ID: id, Provider: provider, Base: base, Quote: quote, Value: val,
		AsOf: time.UnixMilli(asOf).UTC(), FetchedAt: time.UnixMilli(fetched).UTC(),
	}, nil
}

// setLatest writes each series only if the cache holds nothing for it or
// something strictly older, in one atomic step, so a backfill or a late
// retry can never replace what readers see with an older rate. Two kinds
// of entry are replaced whatever their age, as PostgreSQL's rows are the
// truth and never change: one of the same publication (as_of) whose
// content differs from the row's, and one dated after ARGV[2] (now plus
// FutureSkew, in milliseconds), which no publication can be.
// Millisecond epochs fit Lua's doubles exactly.
//
// KEYS[2] records, per series, the writer (ARGV[1]) of the value in
// KEYS[1]. A series counts as updated when the script replaces it now, or
// when it already holds exactly the value being written and the same
// writer put it there: an earlier attempt of the same workflow run that
// Redis executed after its worker died. An empty writer records nothing,
// only clearing the record of a series it replaces, so counts only its
// own replacements.
var setLatest = redis.NewScript(`
local writer = ARGV[1]
local horizon = tonumber(ARGV[2])
local updated = 0
for i = 3, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local newAsOf = tonumber(string.match(value, '^(%d+)|'))
  local old = redis.call('HGET', KEYS[1], field)
  local oldAsOf = old and tonumber(string.match(old, '^(%d+)|'))
  if (not oldAsOf) or oldAsOf < newAsOf or oldAsOf > horizon or (oldAsOf == newAsOf and old ~= value) then
    redis.call('HSET', KEYS[1], field, value)
    if writer ~= '' then
      redis.call('HSET', KEYS[2], field, writer)
    else
      redis.call('HDEL', KEYS[2], field)
    end
    updated = updated + 1
  elseif writer ~= '' and old == value and redis.call('HGET', KEYS[2], field) == writer then
    updated = updated + 1
  end
end
return updated
`)

// SetLatest caches rates of provider (any bases) where they are newer than
// what is cached and returns how many series writer made the cached
// latest: those this call replaces, and those an earlier call by the same
// writer replaced that still hold exactly these values. Activities pass
// their workflow run's id, so a retry of an attempt killed after Redis
// ran the script reports what that attempt did; "" counts only this
// call's replacements. A positive count is announced on UpdatesChannel,
// again by such a retry, as the killed attempt may not have announced it.
func (c *Cache) SetLatest(ctx context.Context, provider string, rates []fx.Rate, writer string) (int, error) {
	if len(rates) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 2+2*len(rates))
	args = append(args, writer, time.Now().Add(FutureSkew).UnixMilli())
	for _, r := range rates {
		args = append(args, r.Base+"/"+r.Quote, encode(r))
	}
	n, err := setLatest.Run(ctx, c.rdb, []string{c.latestKey(provider), c.writerKey(provider)}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("cache: set latest %s: %w", provider, err)
	}
	if n > 0 {
		if err := c.rdb.Publish(ctx, c.UpdatesChannel(), provider).Err(); err != nil {
			return n, fmt.Errorf("cache: announce update of %s: %w", provider, err)
		}
	}
	return n, nil
}

// replaceLatest makes KEYS[1] hold exactly the fields and values in ARGV
// (pairs): a field that differs is rewritten, one absent from ARGV is
// deleted, and the writer record (KEYS[2]) of each is dropped.
var replaceLatest = redis.NewScript(`
local want = {}
for i = 1, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
local changed = 0
for i = 1, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', KEYS[1], field) ~= value then
    redis.call('HSET', KEYS[1], field, value)
    redis.call('HDEL', KEYS[2], field)
    changed = changed + 1
  end
end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not want[field] then
    redis.call('HDEL', KEYS[1], field)
    redis.call('HDEL', KEYS[2], field)
    changed = changed + 1
  end
end
return changed
`)

// ReplaceLatest makes the cached latest rates of provider exactly rates
// (PostgreSQL's newest released rows), whatever the cache holds, and
// announces a change. It repairs a cache found disagreeing with
// PostgreSQL: an entry newer than any row, or naming a row that does not
// exist, which SetLatest never replaces. A row an ingestion commits after
// rates were read may be replaced by an older one until its provider's
// next ingestion; that is why only a disagreement calls for it.
func (c *Cache) ReplaceLatest(ctx context.Context, provider string, rates []fx.Rate) (int, error) {
	args := make([]any, 0, 2*len(rates))
	for _, r := range rates {
		args = append(args, r.Base+"/"+r.Quote, encode(r))
	}
	n, err := replaceLatest.Run(ctx, c.rdb, []string{c.latestKey(provider), c.writerKey(provider)}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("cache: replace latest %s: %w", provider, err)
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

// Latest returns the cached latest rates of each provider, in one round
// trip. A provider the cache holds nothing for is absent from the map,
// and so is one with an entry dated in the future (ErrFutureEntry): the
// caller reads that provider from PostgreSQL, whose rewrite of the cache
// replaces the entry.
func (c *Cache) Latest(ctx context.Context, providers []string) (map[string][]fx.Rate, error) {
	cmds := make([]*redis.MapStringStringCmd, len(providers))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, prov := range providers {
			cmds[i] = p.HGetAll(ctx, c.latestKey(prov))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: latest: %w", err)
	}
	out := make(map[string][]fx.Rate, len(providers))
	now := time.Now()
provider:
	for i, prov := range providers {
		vals := cmds[i].Val()
		if len(vals) == 0 {
			continue
		}
		list := make([]fx.Rate, 0, len(vals))
		for f, v := range vals {
			r, err := decode(prov, f, v, now)
			if errors.Is(err, ErrFutureEntry) {
				slog.WarnContext(ctx, "rate cache: refused an entry dated in the future; reading the provider from PostgreSQL", "error", err.Error())
				continue provider
			}
			if err != nil {
				return nil, err
			}
			list = append(list, r)
		}
		out[prov] = list
	}
	return out, nil
}

// SetHeld replaces the cached set of held series (see heldKey), stamped
// with the time they were read from PostgreSQL, in one transaction, and
// announces it.
func (c *Cache) SetHeld(ctx context.Context, held map[policy.Series]time.Time, readAt time.Time) error {
	fields := make(map[string]string, len(held))
	for s, asOf := range held {
		fields[s.Provider+" "+s.Base+"/"+s.Quote] = strconv.FormatInt(asOf.UnixMilli(), 10)
	}
	if err := c.setSynced(ctx, c.heldKey(), fields, readAt); err != nil {
		return fmt.Errorf("cache: set held series: %w", err)
	}
	return nil
}

// Held returns the cached held series and when they were read from
// PostgreSQL, or ErrMiss when the cache does not hold them.
func (c *Cache) Held(ctx context.Context) (map[policy.Series]time.Time, time.Time, error) {
	vals, readAt, err := c.synced(ctx, c.heldKey())
	if err != nil {
		if errors.Is(err, ErrMiss) {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, fmt.Errorf("cache: held series: %w", err)
	}
	out := make(map[policy.Series]time.Time, len(vals))
	for k, v := range vals {
		prov, pair, ok1 := strings.Cut(k, " ")
		base, quote, ok2 := strings.Cut(pair, "/")
		at, err := strconv.ParseInt(v, 10, 64)
		if !ok1 || !ok2 || err != nil {
			return nil, time.Time{}, fmt.Errorf("cache: malformed held series %q", k)
		}
		out[policy.Series{Provider: prov, Base: base, Quote: quote}] = time.UnixMilli(at).UTC()
	}
	return out, readAt, nil
}

// syncedField records, in the suspensions hash, when it was last copied
// whole from PostgreSQL (Unix milliseconds); it also keeps the hash
// present when no pair is suspended, so "none" and "not cached" differ.
const syncedField = "-synced"

// SetSuspensions replaces the cached set of suspended pairs (keys such as
// "EUR/USD"), stamped with the time they were read from PostgreSQL, in
// one transaction, and announces it.
func (c *Cache) SetSuspensions(ctx context.Context, pairs []string, readAt time.Time) error {
	fields := make(map[string]string, len(pairs))
	for _, p := range pairs {
		fields[p] = "1"
	}
	if err := c.setSynced(ctx, c.suspensionsKey(), fields, readAt); err != nil {
		return fmt.Errorf("cache: set suspensions: %w", err)
	}
	return nil
}

// setSyncedScript replaces KEYS[1] with the stamp ARGV[2] and the field
// pairs after ARGV[3], unless the hash already holds a later stamp (a
// writer that read PostgreSQL after this one did), and announces the
// change on the channel ARGV[1].
var setSyncedScript = redis.NewScript(`
local stamp = redis.call('HGET', KEYS[1], '` + syncedField + `')
if stamp and tonumber(stamp) > tonumber(ARGV[2]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '` + syncedField + `', ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PUBLISH', ARGV[1], '')
return 1
`)

// setSynced replaces the hash key with fields and the syncedField stamp
// readAt, in one atomic step, and announces the change; a copy read from
// PostgreSQL before the one the cache holds is dropped, so a worker that
// read the held series before an operator's release cannot undo it.
func (c *Cache) setSynced(ctx context.Context, key string, fields map[string]string, readAt time.Time) error {
	args := make([]any, 0, 2+2*len(fields))
	args = append(args, c.UpdatesChannel(), strconv.FormatInt(readAt.UnixMilli(), 10))
	for k, v := range fields {
		args = append(args, k, v)
	}
	return setSyncedScript.Run(ctx, c.rdb, []string{key}, args...).Err()
}

// synced reads a hash setSynced wrote: its fields without the stamp, and
// the stamp, or ErrMiss when the cache does not hold it.
func (c *Cache) synced(ctx context.Context, key string) (map[string]string, time.Time, error) {
	vals, err := c.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, time.Time{}, err
	}
	ms, err := strconv.ParseInt(vals[syncedField], 10, 64)
	if len(vals) == 0 || err != nil {
		return nil, time.Time{}, ErrMiss
	}
	delete(vals, syncedField)
	return vals, time.UnixMilli(ms), nil
}

// Suspensions returns the cached suspended pairs and when they were read
// from PostgreSQL, or ErrMiss when the cache does not hold them.
func (c *Cache) Suspensions(ctx context.Context) (map[string]bool, time.Time, error) {
	vals, at, err := c.synced(ctx, c.suspensionsKey())
	if err != nil {
		if errors.Is(err, ErrMiss) {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, fmt.Errorf("cache: suspensions: %w", err)
	}
	out := make(map[string]bool, len(vals))
	for k := range vals {
		out[k] = true
	}
	return out, at, nil
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
