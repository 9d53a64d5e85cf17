package admin_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"ces/internal/admin"
	"ces/internal/clientaddr"
	"ces/internal/httpapi"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestSignInLockoutPerClientBehindProxy: behind a reverse proxy, the
// lock-out counts each client by the address the proxy forwards for, when
// (and only when) the proxy is trusted. Without that, five wrong
// passwords from anyone lock out every operator: every request comes
// from the proxy's address.
func TestSignInLockoutPerClientBehindProxy(t *testing.T) {
	st := store.New(testenv.DB(t))
	hash, err := admin.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Console.CreateAdminUser(context.Background(), store.NewAdminUser{Username: testUser, PasswordHash: hash, Role: store.RoleAdmin, By: "test"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted string
		// operator is the status of the operator's sign-in after another
		// client's failures: 303 signed in, 429 locked out.
		operator int
	}{
		// The proxy is the peer (loopback) and is trusted: clients apart.
		{"trusted proxy", "127.0.0.0/8", 303},
		// The peer is not a trusted proxy: its header is ignored, and both
		// clients are the peer.
		{"untrusted peer", "10.0.0.0/8", 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, prefix := testenv.Redis(t)
			c, err := admin.New(admin.Deps{Stores: admin.StoresOf(st), Redis: rdb, RedisPrefix: prefix, Log: quiet, Ingestion: map[string]admin.Ingestion{}})
			if err != nil {
				t.Fatal(err)
			}
			app := httpapi.NewAdmin(httpapi.Deps{Admin: c, Log: quiet, TrustedProxies: clientaddr.Proxies{netip.MustParsePrefix(tt.trusted)}})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go app.Listener(ln)
			t.Cleanup(func() { app.Shutdown() })
			base := "http://" + ln.Addr().String()

			// An attacker at 203.0.113.66 guesses another username, writing
			// a new address of its own choosing left of the proxy's entry
			// each time; the count follows the address the proxy saw.
			for i := range admin.MaxFailures {
				if status := proxiedSignIn(t, base, fmt.Sprintf("198.51.100.%d, 203.0.113.66", i+1), "root", "guess"); status != 401 {
					t.Fatalf("guess %d: %d, want 401", i+1, status)
				}
			}
			// Locked out, under another username and another invented address too.
			if status := proxiedSignIn(t, base, "198.51.100.99, 203.0.113.66", "admin", "guess"); status != 429 {
				t.Fatalf("the guesser after %d failures: %d, want 429", admin.MaxFailures, status)
			}
			// The operator, from 203.0.113.7 through the same proxy; the
			// attacker's spoofed leftmost entry cannot frame the operator.
			if status := proxiedSignIn(t, base, "203.0.113.66, 203.0.113.7", testUser, testPassword); status != tt.operator {
				t.Fatalf("the operator's sign-in: %d, want %d", status, tt.operator)
			}
		})
	}
}

// proxiedSignIn signs in as a browser behind a proxy does: the proxy adds
// X-Forwarded-For (forwarded) to the page and the form.
func proxiedSignIn(t *testing.T, base, forwarded, user, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) *http.Response {
		req.Header.Set("X-Forwarded-For", forwarded)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/login", nil)
	page := do(req)
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := csrfField.FindSubmatch(body)
	if page.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in page: %d", page.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "username": {user}, "password": {password}}
	req, _ = http.NewRequest(http.MethodPost, base+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := do(req)
	resp.Body.Close()
	return resp.StatusCode
}
