package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"ces/internal/clients"
	"ces/internal/fx"
)

// apiKeyRow is one row of api_keys with its revocation, if any.
type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:k"`

	ID        string        `bun:"id,pk,type:uuid"`
	Name      string        `bun:"name,notnull"`
	Prefix    string        `bun:"prefix,notnull"`
	KeySHA256 string        `bun:"key_sha256,notnull"`
	Scopes    []string      `bun:"scopes,array,notnull"`
	CreatedAt time.Time     `bun:"created_at,notnull"`
	CreatedBy string        `bun:"created_by,notnull"`
	RevokedAt sql.NullTime  `bun:"revoked_at,scanonly"`
	PerMinute sql.NullInt64 `bun:"requests_per_minute"`
}

func (r apiKeyRow) key() clients.Key {
	return clients.Key{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scopes: r.Scopes, CreatedAt: r.CreatedAt.UTC(),
		CreatedBy: r.CreatedBy, RevokedAt: r.RevokedAt.Time.UTC(), RequestsPerMinute: int(r.PerMinute.Int64)}
}

// CreateAPIKey stores a new key by its hash.
func (s *Keys) CreateAPIKey(ctx context.Context, k clients.Key, hash string) error {
	perMinute := sql.NullInt64{Int64: int64(k.RequestsPerMinute), Valid: k.RequestsPerMinute > 0}
	_, err := s.db.NewRaw(`INSERT INTO api_keys (id, name, prefix, key_sha256, scopes, created_at, created_by, requests_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Prefix, hash, pgdialect.Array(k.Scopes), k.CreatedAt.UTC(), k.CreatedBy, perMinute).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

func (s *Keys) selectAPIKeys(db bun.IDB, rows *[]apiKeyRow) *bun.SelectQuery {
	return db.NewSelect().Model(rows).ColumnExpr("k.*").ColumnExpr("r.revoked_at").
		Join("LEFT JOIN api_key_revocations AS r ON r.key_id = k.id")
}

// APIKeys lists every key, newest first.
func (s *Keys) APIKeys(ctx context.Context) ([]clients.Key, error) {
	var rows []apiKeyRow
	if err := s.selectAPIKeys(s.db, &rows).OrderExpr("k.created_at DESC, k.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	out := make([]clients.Key, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// APIKeyByHash returns the key whose SHA-256 is hash, revoked or not;
// fx.ErrUnauthorized when there is none.
func (s *Keys) APIKeyByHash(ctx context.Context, hash string) (clients.Key, error) {
	var rows []apiKeyRow
	if err := s.selectAPIKeys(s.db, &rows).Where("k.key_sha256 = ?", hash).Limit(1).Scan(ctx); err != nil {
		return clients.Key{}, fmt.Errorf("store: api key: %w: %w", fx.ErrDatabaseUnavailable, err)
	}
	if len(rows) == 0 {
		return clients.Key{}, fx.ErrUnauthorized
	}
	return rows[0].key(), nil
}

// RevokeAPIKey revokes the key id; revoking it again changes nothing. It
// reports ErrNotFound for an unknown id.
func (s *Keys) RevokeAPIKey(ctx context.Context, id, by, reason string) error {
	res, err := s.db.NewRaw(`INSERT INTO api_key_revocations (key_id, revoked_by, reason)
		SELECT id, ?, ? FROM api_keys WHERE id = ?::uuid ON CONFLICT (key_id) DO NOTHING`, by, reason, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists bool
		if err := s.db.NewRaw("SELECT EXISTS (SELECT FROM api_keys WHERE id = ?::uuid)", id).Scan(ctx, &exists); err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		if !exists {
			return ErrNotFound
		}
	}
	return nil
}

// keyRevoked reports, inside a write, whether the key was revoked: a
// replica's cache can lag, the write cannot.
func keyRevoked(ctx context.Context, tx bun.IDB, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var revoked bool
	err := tx.NewRaw("SELECT EXISTS (SELECT FROM api_key_revocations WHERE key_id = ?::uuid)", id).Scan(ctx, &revoked)
	return revoked, err
}
