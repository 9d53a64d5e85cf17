package admin_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ces/internal/clients"
)

var newKeyRe = regexp.MustCompile(`<code id="new-key">(ces_[A-Za-z0-9_-]+)</code>`)

// TestConsoleManagesKeys: the console makes a key (shown once, in the
// response, never in a URL), lists it by prefix only, and revokes it with
// a reason; each action is recorded in admin_actions.
func TestConsoleManagesKeys(t *testing.T) {
	c := newConsole(t)
	ck, token := c.session(t)
	ctx := context.Background()

	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"no name", url.Values{"name": {""}, "scope-convert": {"on"}, "csrf": {token}}},
		{"no scope", url.Values{"name": {"shop"}, "csrf": {token}}},
		{"negative quota", url.Values{"name": {"shop"}, "scope-convert": {"on"}, "per_minute": {"-1"}, "csrf": {token}}},
	} {
		if r := c.do(t, "POST", "/admin/keys", tt.form, ck); r.status != 400 {
			t.Fatalf("%s: %d", tt.name, r.status)
		}
	}
	if r := c.do(t, "POST", "/admin/keys", url.Values{"name": {"shop"}, "scope-convert": {"on"}}, ck); r.status != 403 {
		t.Fatalf("without CSRF: %d", r.status)
	}
	r := c.do(t, "POST", "/admin/keys", url.Values{"name": {"shop"}, "scope-convert": {"on"}, "per_minute": {"30"}, "csrf": {token}}, ck)
	m := newKeyRe.FindStringSubmatch(r.body)
	if r.status != 201 || m == nil || r.header.Get("Location") != "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %v\n%s", r.status, r.header, r.body)
	}
	key := m[1]
	k, err := c.st.Keys.APIKeyByHash(ctx, clients.Hash(key))
	if err != nil || k.Name != "shop" || k.Has(clients.ScopeRatesRead) || !k.Has(clients.ScopeConvert) || k.RequestsPerMinute != 30 || k.CreatedBy != testUser {
		t.Fatalf("stored key %+v, %v", k, err)
	}
	list := c.do(t, "GET", "/admin/keys", nil, ck)
	if !strings.Contains(list.body, k.Prefix+"…") || strings.Contains(list.body, key) {
		t.Fatalf("the list must show the prefix and never the key:\n%s", list.body)
	}
	if r := c.do(t, "POST", "/admin/keys/"+k.ID+"/revoke", url.Values{"csrf": {token}}, ck); r.status != 400 {
		t.Fatalf("revoke without a reason: %d", r.status)
	}
	if r := c.do(t, "POST", "/admin/keys/0192f3a0-0000-7000-8000-000000000000/revoke", url.Values{"reason": {"x"}, "csrf": {token}}, ck); r.status != 404 {
		t.Fatalf("revoke an unknown key: %d %s", r.status, r.body)
	}
	if r := c.do(t, "POST", "/admin/keys/"+k.ID+"/revoke", url.Values{"reason": {"leaked in a log"}, "csrf": {token}}, ck); r.status != 303 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if k, err := c.st.Keys.APIKeyByHash(ctx, clients.Hash(key)); err != nil || !k.Revoked() {
		t.Fatalf("after revoke: %+v %v", k, err)
	}
	var got []string
	for _, a := range c.actions(t) {
		if strings.HasPrefix(a.Action, "apikey-") {
			got = append(got, a.Action+" "+a.Reason+" "+a.Outcome)
			if strings.Contains(a.Outcome+a.Target+a.Reason, key) {
				t.Fatal("an admin action records the key itself")
			}
		}
	}
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "apikey-create  ok: shop (convert)") || !strings.Contains(joined, "apikey-revoke leaked in a log ok") {
		t.Fatalf("recorded actions:\n%s", joined)
	}
}
