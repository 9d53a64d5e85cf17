package admin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"ces/internal/audit"
	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/testenv"
)

// newClientKey stores a new API key named name and returns it with the
// key itself (which the console must never show).
func newClientKey(t *testing.T, st *store.Store, name string) (clients.Key, string) {
	t.Helper()
	k, plain, hash, err := clients.NewKey(name, clients.DefaultScopes, 0, "test", time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Keys.CreateAPIKey(context.Background(), k, hash); err != nil {
		t.Fatal(err)
	}
	return k, plain
}

// record stores a receipt priced as base, made with key (none: "") and
// executing quote (none: ""), the way the API records it.
func record(t *testing.T, st *store.Store, base fx.Receipt, key string, quote *fx.LockedQuote) (fx.Receipt, error) {
	t.Helper()
	r := base
	r.ID, r.CreatedAt, r.APIKeyID = uuid.NewString(), time.Now().UTC().Truncate(time.Microsecond), key
	if quote != nil {
		r.QuoteID, r.RequestSHA256 = quote.ID, fx.QuoteRequestHash(quote.ID)
	}
	r.Hash = audit.ReceiptHash(r)
	_, _, err := st.Conversions.RecordConversion(context.Background(), r)
	return r, err
}

// TestConversionPageTellsTheStory opens the page of a receipt made
// through a quote with an API key, of one priced at the moment of
// conversion with a key since revoked, and of one from before keys and
// quotes, and checks each tells its quote, its key and its rate rows.
func TestConversionPageTellsTheStory(t *testing.T) {
	ctx := context.Background()
	c := newConsole(t)
	ck, _ := c.session(t)
	old := testenv.SeedReceipts(t, c.st, 1)[0] // no key, no quote
	leg := old.Legs[0].ID

	key, plain := newClientKey(t, c.st, "checkout service")
	now := time.Now().UTC().Truncate(time.Microsecond)
	q := fx.LockedQuote{ID: uuid.NewString(), APIKeyID: key.ID, CreatedAt: now, ExpiresAt: now.Add(30 * time.Second), Pricing: old.Pricing}
	if err := c.st.Conversions.InsertQuote(ctx, q); err != nil {
		t.Fatal(err)
	}
	quoted, err := record(t, c.st, old, key.ID, &q)
	if err != nil {
		t.Fatal(err)
	}
	gone, gonePlain := newClientKey(t, c.st, "retired batch job")
	spot, err := record(t, c.st, old, gone.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.st.Keys.RevokeAPIKey(ctx, gone.ID, "test", "retired"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		id        string
		want, not []string
	}{
		{name: "quote and key", id: quoted.ID,
			want: []string{
				`<code id="quote-id">` + q.ID + `</code>`,
				`<dd id="quote-created">` + q.CreatedAt.Format(time.RFC3339) + `</dd>`,
				`<dd id="quote-expires">` + q.ExpiresAt.Format(time.RFC3339) + `</dd>`,
				`<dd class="num" id="quote-mid">` + q.MidRate.String() + `</dd>`,
				`<dd class="num" id="quote-applied">` + q.AppliedRate.String() + `</dd>`,
				`<dd id="quote-executed">by this conversion</dd>`,
				"Quote hash verified.", "This conversion executed it at exactly its figures.",
				`<dd id="key-name">checkout service</dd>`, `<code id="key-prefix">` + key.Prefix + `…</code>`,
				`<dd id="key-status">active</dd>`, `href="/admin/keys#key-` + key.ID + `"`,
				fmt.Sprintf(`<a href="/admin/rates/%d">%d</a>`, leg, leg),
			},
			not: []string{plain, "No quote", "No API key"}},
		{name: "priced at conversion, key revoked", id: spot.ID,
			want: []string{"No quote: priced at the moment of conversion.", `<dd id="key-name">retired batch job</dd>`, `<dd id="key-status">revoked `,
				fmt.Sprintf(`<a href="/admin/rates/%d">%d</a>`, leg, leg)},
			not: []string{gonePlain, `id="quote-id"`}},
		{name: "from before keys and quotes", id: old.ID,
			want: []string{"Hash verified", "No quote: priced at the moment of conversion.", "No API key: made before conversions needed one.",
				fmt.Sprintf(`<a href="/admin/rates/%d">%d</a>`, leg, leg)},
			not: []string{`id="quote-id"`, `id="key-name"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := c.do(t, "GET", "/admin/conversions/"+tt.id, nil, ck)
			if page.status != 200 {
				t.Fatalf("status %d: %s", page.status, page.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(page.body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(page.body, n) {
					t.Errorf("the page shows %q", n)
				}
			}
		})
	}
}

// TestIntegrityExplainsSequenceGaps rolls a conversion back after its
// INSERT drew a sequence number (its key was revoked: the check sent with
// the INSERT refuses it) and checks the Integrity page lists the unused
// number and says why, and that the log still verifies.
func TestIntegrityExplainsSequenceGaps(t *testing.T) {
	c := newConsole(t)
	ck, _ := c.session(t)
	base := testenv.SeedReceipts(t, c.st, 1)[0]
	if page := c.do(t, "GET", "/admin/integrity", nil, ck); !strings.Contains(page.body, "1 audit rows hold every sequence number from 1 to 1: no gap.") {
		t.Fatalf("before the gap: %s", brief(page.body))
	}

	key, _ := newClientKey(t, c.st, "revoked mid-flight")
	if err := c.st.Keys.RevokeAPIKey(context.Background(), key.ID, "test", "leaked"); err != nil {
		t.Fatal(err)
	}
	if _, err := record(t, c.st, base, key.ID, nil); !errors.Is(err, fx.ErrUnauthorized) {
		t.Fatalf("a conversion with a revoked key: %v, want refused", err)
	}
	testenv.SeedReceipts(t, c.st, 1)

	page := c.do(t, "GET", "/admin/integrity", nil, ck)
	for _, w := range []string{
		"2 audit rows, numbered up to 3: 1 number holds no row, in 1 gap:",
		`<span id="seq-gap-list">2</span>`,
		"A conversion whose transaction rolled back leaves its number unused",
		"the API key was revoked",
		"never that numbers are contiguous, so a gap is not a failure",
	} {
		if !strings.Contains(page.body, w) {
			t.Errorf("the Integrity page lacks %q", w)
		}
	}
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, c.st)
	if rep := sealing.Verify(t, c.st, true); !rep.OK() || rep.Rows != 2 {
		t.Fatalf("the log with a gap does not verify: %+v", rep)
	}
}
