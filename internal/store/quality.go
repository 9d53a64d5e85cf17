package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/fx"
	"ces/internal/policy"
)

// Quarantine states.
const (
	QuarantineHeld     = "held"
	QuarantineReleased = "released"
	QuarantineRejected = "rejected"
)

// ErrQuarantineNotFound is returned for an unknown quarantine id.
var ErrQuarantineNotFound = errors.New("store: no such quarantine")

// ErrAlreadyDecided is returned when a quarantine was released or rejected before.
var ErrAlreadyDecided = errors.New("store: the quarantine was already decided")

// ErrReasonRequired is returned when a decision or suspension has no reason.
var ErrReasonRequired = errors.New("store: a reason is required")

type quarantineRow struct {
	bun.BaseModel `bun:"table:rate_quarantines,alias:rq"`

	ID              int64     `bun:"id,pk,autoincrement"`
	RateID          int64     `bun:"rate_id,notnull"`
	Against         string    `bun:"against,notnull"`
	ReferenceRateID int64     `bun:"reference_rate_id,nullzero"`
	ReferenceValue  string    `bun:"reference_value,type:numeric,notnull"`
	Change          string    `bun:"change,type:numeric,notnull"`
	JumpLimit       string    `bun:"jump_limit,type:numeric,notnull"`
	CreatedAt       time.Time `bun:"created_at,nullzero,notnull,default:now()"`
	// The consensus and issuer checks' figures (NULL for the others).
	Currency   string        `bun:"currency,nullzero"`
	OnBase     string        `bun:"on_base,nullzero"`
	Value      string        `bun:"value,type:numeric,nullzero"`
	Median     string        `bun:"median,type:numeric,nullzero"`
	MAD        string        `bun:"mad,type:numeric,nullzero"`
	MADs       string        `bun:"mads,type:numeric,nullzero"`
	Band       string        `bun:"band,type:numeric,nullzero"`
	Publishers int           `bun:"publishers,nullzero"`
	Votes      []policy.Vote `bun:"votes,type:jsonb,nullzero"`
}

// newQuarantineRow is the row recording finding f on the rate rateID.
func newQuarantineRow(rateID int64, f policy.Finding) quarantineRow {
	row := quarantineRow{
		RateID: rateID, Against: f.Against, ReferenceRateID: f.Reference.ID,
		ReferenceValue: fx.Exact(f.ReferenceValue), Change: f.Change.String(), JumpLimit: f.Limit.String(),
		Currency: f.Currency, OnBase: f.On, Votes: f.Votes,
	}
	text := func(d decimal.Decimal, set bool) string {
		if !set {
			return ""
		}
		return d.String()
	}
	consensus, judgedOnBase := f.Against == policy.AgainstConsensus, f.Currency != ""
	row.Value = text(f.Value, judgedOnBase)
	row.Band = text(f.Band, judgedOnBase)
	row.Median, row.MAD, row.MADs = text(f.Median, consensus), text(f.MAD, consensus), text(f.MADs, consensus)
	if consensus {
		row.Publishers = len(f.Votes)
	}
	return row
}

// quarantineOf is the Quarantine row records, on rate with reference.
func quarantineOf(row quarantineRow, rate, reference fx.Rate) Quarantine {
	dec := func(s string) decimal.Decimal {
		if s == "" {
			return decimal.Decimal{}
		}
		return decimal.RequireFromString(s)
	}
	return Quarantine{
		ID: row.ID, Rate: rate, Against: row.Against, Reference: reference, ReferenceValue: dec(row.ReferenceValue),
		Change: dec(row.Change), JumpLimit: dec(row.JumpLimit), CreatedAt: row.CreatedAt.UTC(), Status: QuarantineHeld,
		Currency: row.Currency, On: row.OnBase, Value: dec(row.Value), Median: dec(row.Median), MAD: dec(row.MAD),
		MADs: dec(row.MADs), Band: dec(row.Band), Publishers: row.Publishers, Votes: row.Votes,
	}
}

type decisionRow struct {
	bun.BaseModel `bun:"table:rate_quarantine_decisions,alias:rd"`

	ID           int64     `bun:"id,pk,autoincrement"`
	QuarantineID int64     `bun:"quarantine_id,notnull"`
	Decision     string    `bun:"decision,notnull"`
	Reason       string    `bun:"reason,notnull"`
	Username     string    `bun:"username,notnull"`
	DecidedAt    time.Time `bun:"decided_at,nullzero,notnull,default:now()"`
	Figures      string    `bun:"figures,nullzero"`
}

// Quarantine is a rate the quality gate held back, with the comparison
// that triggered it and, once taken, the operator's decision.
type Quarantine struct {
	ID      int64
	Rate    fx.Rate
	Against string
	// Reference is the row compared with (the issuer's for an issuer
	// hold; none for a consensus hold, which compared with a median).
	Reference      fx.Rate
	ReferenceValue decimal.Decimal
	Change         decimal.Decimal
	// JumpLimit is the limit Change exceeded: RATE_JUMP_LIMIT for a
	// previous or provider hold, GATE_CONSENSUS_BAND for an issuer hold,
	// max(MADs × MAD, Band × Median) ÷ Median for a consensus hold.
	JumpLimit decimal.Decimal
	// Currency, On and Value: the consensus and issuer checks' currency,
	// the common base it was valued on and the held row's value of it;
	// Median, MAD, MADs, Band and Publishers their figures, Votes the
	// values compared (the issuer's alone for an issuer hold).
	Currency, On string
	Value        decimal.Decimal
	Median, MAD  decimal.Decimal
	MADs, Band   decimal.Decimal
	Publishers   int
	Votes        []policy.Vote
	CreatedAt    time.Time
	Status       string
	Reason       string
	DecidedBy    string
	DecidedAt    time.Time
	// DecidedOn is the figures the decision was taken on (Figures as the
	// operator was shown them); empty on decisions from before it was
	// recorded.
	DecidedOn string
	// Cascaded lists the later held rates of the series that a release
	// released too (see regateLater).
	Cascaded []int64
}

// Quarantines returns the newest quarantines first; held only when pending.
func (s *Quality) Quarantines(ctx context.Context, pending bool, limit int) ([]Quarantine, error) {
	q := s.db.NewSelect().Model((*quarantineRow)(nil)).Column("rq.id").OrderExpr("rq.id DESC").Limit(int64(limit))
	if pending {
		q = q.Where("NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)")
	}
	var ids []int64
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: quarantines: %w", err)
	}
	out := make([]Quarantine, 0, len(ids))
	for _, id := range ids {
		qr, err := loadQuarantine(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		out = append(out, qr)
	}
	return out, nil
}

// Quarantine returns one quarantine.
func (s *Quality) Quarantine(ctx context.Context, id int64) (Quarantine, error) {
	return loadQuarantine(ctx, s.db, id)
}

func loadQuarantine(ctx context.Context, db bun.IDB, id int64) (Quarantine, error) {
	var row quarantineRow
	if err := db.NewSelect().Model(&row).Where("rq.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Quarantine{}, ErrQuarantineNotFound
		}
		return Quarantine{}, fmt.Errorf("store: quarantine %d: %w", id, err)
	}
	var rates []rateRow
	if err := db.NewSelect().Model(&rates).Where("id IN (?)", bun.In([]int64{row.RateID, row.ReferenceRateID})).Scan(ctx); err != nil {
		return Quarantine{}, fmt.Errorf("store: quarantine %d rates: %w", id, err)
	}
	var rate, reference fx.Rate
	for _, r := range rates {
		if r.ID == row.RateID {
			rate = r.rate()
		}
		if r.ID == row.ReferenceRateID {
			reference = r.rate()
		}
	}
	q := quarantineOf(row, rate, reference)
	var d []decisionRow
	if err := db.NewSelect().Model(&d).Where("quarantine_id = ?", id).Scan(ctx); err != nil {
		return Quarantine{}, fmt.Errorf("store: quarantine %d decision: %w", id, err)
	}
	if len(d) == 1 {
		q.Status, q.Reason, q.DecidedBy, q.DecidedAt, q.DecidedOn = d[0].Decision, d[0].Reason, d[0].Username, d[0].DecidedAt.UTC(), d[0].Figures
	}
	return q, nil
}

// Cascade says, for a rate just released and the held rates of its
// series that came after it (oldest first; each with its ID, Rate and
// JumpLimit), how many of those, from the first, are released with it.
// The decision is the caller's (policy.Cascade, through the gate
// package); DecideQuarantine requires one for a release.
type Cascade func(released fx.Rate, later []Quarantine) int

// ErrFiguresChanged is returned when a decision names figures the
// quarantine does not hold: the operator decided on another page.
var ErrFiguresChanged = errors.New("store: the figures shown are not the quarantine's; reload the page and decide again")

// Decision is an operator's answer to a quarantine.
type Decision struct {
	ID       int64
	Release  bool
	Reason   string
	Username string
	// Figures are the figures the operator was shown (Quarantine.Figures
	// of the quarantine as the console or the CLI read it); empty: the
	// store's own, for callers that show none.
	Figures string
}

// DecideQuarantine is Decide without the figures shown.
func (s *Quality) DecideQuarantine(ctx context.Context, id int64, release bool, reason, username string, cascade Cascade) (Quarantine, error) {
	return s.Decide(ctx, Decision{ID: id, Release: release, Reason: reason, Username: username}, cascade)
}

// Decide releases (the rate becomes priceable) or rejects (it never will
// be) a held rate, once, with a reason, recording the figures it was
// decided on. A release puts the later held rates of the series to
// cascade (nil: none follow it).
func (s *Quality) Decide(ctx context.Context, d Decision, cascade Cascade) (Quarantine, error) {
	id, release, reason, username := d.ID, d.Release, d.Reason, d.Username
	if strings.TrimSpace(reason) == "" {
		return Quarantine{}, ErrReasonRequired
	}
	if release && cascade == nil {
		return Quarantine{}, errors.New("store: a release needs the gate's cascade rule")
	}
	decision := QuarantineRejected
	if release {
		decision = QuarantineReleased
	}
	var out Quarantine
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q, err := loadQuarantine(ctx, tx, id)
		if err != nil {
			return err
		}
		if q.Status != QuarantineHeld {
			return ErrAlreadyDecided
		}
		figures := q.Figures()
		if d.Figures != "" && strings.TrimSpace(d.Figures) != figures {
			return ErrFiguresChanged
		}
		row := decisionRow{QuarantineID: id, Decision: decision, Reason: strings.TrimSpace(reason), Username: username, Figures: figures}
		res, err := tx.NewInsert().Model(&row).Ignore().Returning("decided_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: decide quarantine %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrAlreadyDecided // a concurrent decision won
		}
		q.Status, q.Reason, q.DecidedBy, q.DecidedAt, q.DecidedOn = decision, row.Reason, username, row.DecidedAt.UTC(), figures
		if release {
			if q.Cascaded, err = regateLater(ctx, tx, q, cascade); err != nil {
				return err
			}
		}
		out = q
		return nil
	})
	return out, err
}

// Figures states, in one line of exact decimals, what the quarantine
// compared: the held rate, the reference figures, the change and the
// limit. The console shows it beside the decision forms and sends it
// back; the decision records it.
func (q Quarantine) Figures() string {
	var b strings.Builder
	fmt.Fprintf(&b, "held %s %s/%s %s as of %s (row %d)", q.Rate.Provider, q.Rate.Base, q.Rate.Quote, fx.Exact(q.Rate.Value),
		q.Rate.AsOf.UTC().Format(time.RFC3339), q.Rate.ID)
	switch q.Against {
	case policy.AgainstConsensus:
		fmt.Fprintf(&b, "; 1 %s = %s %s; median of %d other publishers %s, MAD %s", q.Currency, q.Value, q.On, q.Publishers, q.Median, q.MAD)
		for _, v := range q.Votes {
			fmt.Fprintf(&b, "; %s %s (rows %s)", v.Provider, v.Value, ids(v.RateIDs))
		}
		fmt.Fprintf(&b, "; change %s, limit %s = max(%s MADs, band %s) of the median", q.Change, q.JumpLimit, q.MADs, q.Band)
	case policy.AgainstIssuer:
		fmt.Fprintf(&b, "; 1 %s = %s %s; issuer %s %s (rows %s)", q.Currency, q.Value, q.On, q.Reference.Provider, q.ReferenceValue, votesRows(q.Votes))
		fmt.Fprintf(&b, "; change %s, band %s", q.Change, q.JumpLimit)
	default:
		fmt.Fprintf(&b, "; %s %s %s/%s %s (row %d), as the held rate: %s", q.Against, q.Reference.Provider, q.Reference.Base, q.Reference.Quote,
			fx.Exact(q.Reference.Value), q.Reference.ID, fx.Exact(q.ReferenceValue))
		fmt.Fprintf(&b, "; change %s, limit %s", q.Change, q.JumpLimit)
	}
	return b.String()
}

func votesRows(votes []policy.Vote) string {
	if len(votes) == 0 {
		return ""
	}
	return ids(votes[0].RateIDs)
}

func ids(list []int64) string {
	out := make([]string, len(list))
	for i, id := range list {
		out[i] = fmt.Sprint(id)
	}
	return strings.Join(out, ",")
}

// GateUser is the username of decisions the quality gate takes itself.
const GateUser = "quality-gate"

// regateLater asks cascade about the held rates of the released rate's
// series that came after it, in as_of order: each was compared with the
// rate before the jump, and after a real devaluation every later day
// would stay held. Those cascade says to release are released in the same
// transaction, with a reason naming this release. Only rates held by the
// jump checks follow a release: one the consensus or the issuer held
// disagreed with other publishers of its own day, which a release of an
// earlier day says nothing about. They are read in one
// statement, each with its rate and the limit it was held under (what a
// cascade weighs), whatever their number.
func regateLater(ctx context.Context, tx bun.Tx, released Quarantine, cascade Cascade) ([]int64, error) {
	var rows []struct {
		QuarantineID int64  `bun:"quarantine_id"`
		JumpLimit    string `bun:"jump_limit"`
		rateRow      `bun:",extend"`
	}
	if err := tx.NewRaw(`SELECT rq.id AS quarantine_id, rq.jump_limit, r.*
FROM rate_quarantines rq JOIN exchange_rates r ON r.id = rq.rate_id
WHERE r.provider = ? AND r.base = ? AND r.quote = ? AND r.as_of > ?
  AND rq.against IN ('previous', 'provider')
  AND NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)
ORDER BY r.as_of`, released.Rate.Provider, released.Rate.Base, released.Rate.Quote, released.Rate.AsOf).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: later quarantines: %w", err)
	}
	later := make([]Quarantine, len(rows))
	for i, r := range rows {
		later[i] = Quarantine{ID: r.QuarantineID, Rate: r.rate(), JumpLimit: decimal.RequireFromString(r.JumpLimit), Status: QuarantineHeld}
	}
	n := min(max(cascade(released.Rate, later), 0), len(later))
	var cascaded []int64
	prev := released.Rate
	for _, q := range later[:n] {
		reason := fmt.Sprintf("within %s of %s's rate of %s, released with quarantine %d by %s: %s",
			q.JumpLimit, prev.Provider, prev.AsOf.Format(time.RFC3339), released.ID, released.DecidedBy, released.Reason)
		row := decisionRow{QuarantineID: q.ID, Decision: QuarantineReleased, Reason: reason, Username: GateUser}
		if _, err := tx.NewInsert().Model(&row).Ignore().Exec(ctx); err != nil {
			return nil, fmt.Errorf("store: release quarantine %d: %w", q.ID, err)
		}
		cascaded = append(cascaded, q.ID)
		prev = q.Rate
	}
	return cascaded, nil
}

// CountHeld returns how many quarantines await a decision.
func (s *Quality) CountHeld(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*quarantineRow)(nil)).
		Where("NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count quarantines: %w", err)
	}
	return int(n), nil
}

type suspensionRow struct {
	bun.BaseModel `bun:"table:pair_suspensions,alias:ps"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Base      string    `bun:"base,notnull"`
	Quote     string    `bun:"quote,notnull"`
	Suspended bool      `bun:"suspended,notnull"`
	Reason    string    `bun:"reason,notnull"`
	Username  string    `bun:"username,notnull"`
	At        time.Time `bun:"at,nullzero,notnull,default:now()"`
}

// Suspension is a pair an operator took out of pricing, either way round.
type Suspension struct {
	Base, Quote string
	Reason      string
	Username    string
	At          time.Time
}

// pairKey orders a pair so that A/B and B/A are one suspension.
func pairKey(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// SetSuspension suspends (or resumes) the pair a/b in both directions.
func (s *Quality) SetSuspension(ctx context.Context, a, b string, suspended bool, reason, username string) error {
	if strings.TrimSpace(reason) == "" {
		return ErrReasonRequired
	}
	base, quote := pairKey(a, b)
	row := suspensionRow{Base: base, Quote: quote, Suspended: suspended, Reason: strings.TrimSpace(reason), Username: username}
	if _, err := s.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("store: suspend %s/%s: %w", base, quote, err)
	}
	return nil
}

// Suspensions returns the pairs suspended now, sorted.
func (s *Quality) Suspensions(ctx context.Context) ([]Suspension, error) {
	var rows []suspensionRow
	if err := s.db.NewSelect().TableExpr("(?) AS ps",
		s.db.NewSelect().Model((*suspensionRow)(nil)).DistinctOn("base, quote").OrderExpr("base, quote, id DESC")).
		ColumnExpr("ps.*").Where("ps.suspended").OrderExpr("ps.base, ps.quote").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: suspensions: %w", err)
	}
	out := make([]Suspension, len(rows))
	for i, r := range rows {
		out[i] = Suspension{Base: r.Base, Quote: r.Quote, Reason: r.Reason, Username: r.Username, At: r.At.UTC()}
	}
	return out, nil
}

// SuspendedKey is how a suspended pair is named in caches: the two codes
// in alphabetical order, "EUR/USD" for either direction.
func SuspendedKey(a, b string) string {
	x, y := pairKey(a, b)
	return x + "/" + y
}

// HeldSeries returns the series with a publication the quality gate holds
// and no operator has decided on, each with its newest such as_of. A
// series is under review while that as_of is after its newest released
// rate (policy.Standing); a held backfill of an older day is not.
func (s *Quality) HeldSeries(ctx context.Context) (map[policy.Series]time.Time, error) {
	var rows []struct {
		Provider string    `bun:"provider"`
		Base     string    `bun:"base"`
		Quote    string    `bun:"quote"`
		AsOf     time.Time `bun:"as_of"`
	}
	if err := s.db.NewRaw(`SELECT r.provider, r.base, r.quote, max(r.as_of) AS as_of
FROM rate_quarantines rq JOIN exchange_rates r ON r.id = rq.rate_id
WHERE NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)
GROUP BY r.provider, r.base, r.quote`).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: held series: %w", err)
	}
	out := make(map[policy.Series]time.Time, len(rows))
	for _, r := range rows {
		out[policy.Series{Provider: r.Provider, Base: r.Base, Quote: r.Quote}] = r.AsOf.UTC()
	}
	return out, nil
}

// Waiting sums up what waits for an operator: the rates the quality gate
// holds that no one has decided on, when the oldest of those holds was
// made (zero when none), and the pairs suspended.
type Waiting struct {
	Held       int
	OldestHeld time.Time
	Suspended  int
}

// Waiting reads what waits for an operator, for the API's metrics.
func (s *Quality) Waiting(ctx context.Context) (Waiting, error) {
	var w Waiting
	var row struct {
		N      int          `bun:"n"`
		Oldest sql.NullTime `bun:"oldest"`
	}
	if err := s.db.NewRaw(`SELECT count(*) AS n, min(rq.created_at) AS oldest FROM rate_quarantines rq
WHERE NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)`).Scan(ctx, &row); err != nil {
		return w, fmt.Errorf("store: held rates: %w", err)
	}
	w.Held = row.N
	if row.Oldest.Valid {
		w.OldestHeld = row.Oldest.Time.UTC()
	}
	list, err := s.Suspensions(ctx)
	if err != nil {
		return w, err
	}
	w.Suspended = len(list)
	return w, nil
}
