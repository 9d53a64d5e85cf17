package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Open connects to PostgreSQL at url with a pool of at most maxConns
// connections and checks that the server answers. Errors never quote url,
// since it may carry a password (pgx's own connect errors name only the
// host, user and database).
func Open(ctx context.Context, url string, maxConns int) (*bun.DB, error) {
	return OpenWithLimits(ctx, url, maxConns, Limits{})
}

// Limits bound what one session of a service may do, as PostgreSQL
// settings of each connection, so that nothing waits without end even
// where no context deadline reaches: a statement (statement_timeout) and
// the wait for a lock (lock_timeout). Zero leaves a setting alone.
// Migrations open without limits.
type Limits struct {
	Statement time.Duration
	Lock      time.Duration
}

// ConnectTimeout bounds establishing one connection.
const ConnectTimeout = 5 * time.Second

// OpenWithLimits is Open with every connection's session bounded by l.
func OpenWithLimits(ctx context.Context, url string, maxConns int, l Limits) (*bun.DB, error) {
	return open(ctx, url, maxConns, l, nil, false)
}

// OpenListener opens the one connection ListenRateChanges holds. A wait
// that ends at its deadline only sets a deadline on the socket rather than
// sending PostgreSQL a cancel request, which could cancel the liveness
// query that follows it.
func OpenListener(ctx context.Context, url string, l Limits) (*bun.DB, error) {
	return open(ctx, url, 1, l, nil, true)
}

// OpenTraced is Open with tracer seeing every statement sent, whether
// bun formatted it or it went as a prepared statement (tests count SQL
// with it).
func OpenTraced(ctx context.Context, url string, maxConns int, tracer pgx.QueryTracer) (*bun.DB, error) {
	return open(ctx, url, maxConns, Limits{}, tracer, false)
}

func open(ctx context.Context, url string, maxConns int, l Limits, tracer pgx.QueryTracer, deadlineOnly bool) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: DATABASE_URL is not a valid PostgreSQL URL")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = ConnectTimeout
	}
	if l.Statement > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(l.Statement.Milliseconds(), 10)
	}
	if l.Lock > 0 {
		cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(l.Lock.Milliseconds(), 10)
	}
	// bun writes every value into the SQL text itself, so each statement is
	// new to pgx: with the default extended protocol that costs a Parse and
	// Describe round trip per query and fills the statement cache with
	// one-off texts. The simple protocol sends each statement once.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.Tracer = tracer
	// Otherwise pgx's own handling stays: a deadline on the socket, no
	// cancel request. A cancel request to a COMMIT waiting for a
	// synchronous standby commits on the primary alone with only a
	// warning, which the caller would take for success and a failover
	// would lose (TestCommitNotReplicatedIsNotSuccess).
	if deadlineOnly {
		cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
		}
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	// A multi-host URL tries each host in turn, each within the connect
	// timeout, before it gives up.
	pingCtx, cancel := context.WithTimeout(ctx, time.Duration(1+len(cfg.Fallbacks))*cfg.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s/%s: %w", hosts(cfg), cfg.Database, err)
	}
	return db, nil
}

// hosts names the servers cfg tries, in order ("h1:5432,h2:5432"): a
// multi-host DATABASE_URL connects to the first that answers and, with
// target_session_attrs=read-write, accepts writes, so a pool follows the
// primary through a failover.
func hosts(cfg *pgx.ConnConfig) string {
	out := []string{fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)}
	for _, f := range cfg.Fallbacks {
		if h := fmt.Sprintf("%s:%d", f.Host, f.Port); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return strings.Join(out, ",")
}

// Store holds one store per domain over one bun.DB (see doc.go). A
// service takes the small interface it declares, which one of these
// satisfies, rather than the Store.
type Store struct {
	Rates       *Rates
	Quality     *Quality
	Conversions *Conversions
	Audit       *Audit
	Keys        *Keys
	Console     *Console
	Health      *Health
	db          *bun.DB
}

// New returns the domain stores over db.
func New(db *bun.DB) *Store {
	return &Store{
		Rates: NewRates(db), Quality: NewQuality(db), Conversions: NewConversions(db),
		Audit: NewAudit(db), Keys: NewKeys(db), Console: NewConsole(db), Health: NewHealth(db), db: db,
	}
}

// Rates reads and writes exchange_rates: ingestion's inserts, through the
// quality gate's verdicts, and every lookup of the latest rates and of
// history.
type Rates struct{ db *bun.DB }

// NewRates returns the rates store over db.
func NewRates(db *bun.DB) *Rates { return &Rates{db: db} }

// Quality reads and writes the quality gate's state: quarantines and the
// decisions on them, and pair suspensions.
type Quality struct{ db *bun.DB }

// NewQuality returns the quality store over db.
func NewQuality(db *bun.DB) *Quality { return &Quality{db: db} }

// Conversions writes and reads receipts (conversion_audits) and the
// quotes they use, checking each receipt against the rate rows it names.
type Conversions struct{ db *bun.DB }

// NewConversions returns the conversions store over db.
func NewConversions(db *bun.DB) *Conversions { return &Conversions{db: db} }

// Audit seals the conversion log and verifies it: seals, signing keys
// and verification runs.
type Audit struct{ db *bun.DB }

// NewAudit returns the audit store over db.
func NewAudit(db *bun.DB) *Audit { return &Audit{db: db} }

// Keys reads and writes API clients' keys.
type Keys struct{ db *bun.DB }

// NewKeys returns the keys store over db.
func NewKeys(db *bun.DB) *Keys { return &Keys{db: db} }

// Console reads and writes the admin console's users, sessions and the
// log of operators' actions.
type Console struct{ db *bun.DB }

// NewConsole returns the console store over db.
func NewConsole(db *bun.DB) *Console { return &Console{db: db} }

// DB returns the underlying database (tests reach tables through it).
func (s *Store) DB() *bun.DB { return s.db }

// CanWrite checks that a conversion could be recorded now: it takes, and
// gives back at once, the lock an insert into conversion_audits needs,
// waiting at most wait. A table locked by a migration or by hand makes
// it fail while plain queries still answer.
func (s *Conversions) CanWrite(ctx context.Context, wait time.Duration) error {
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// 0 would mean "no timeout": never less than 1 ms.
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = "+strconv.FormatInt(max(wait.Milliseconds(), 1), 10)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "LOCK TABLE conversion_audits IN ROW EXCLUSIVE MODE")
		if err != nil {
			return err
		}
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		return fmt.Errorf("store: conversions cannot be written within %s: %w", wait, err)
	}
	return nil
}

// errRollback ends a transaction that only probed.
var errRollback = errors.New("store: probe done")

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
