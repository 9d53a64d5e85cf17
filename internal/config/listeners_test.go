package config

import (
	"slices"
	"strings"
	"testing"
)

func TestListenersAndProxies(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		admin   string
		proxies []string
		wantErr string
	}{
		{name: "defaults: admin on loopback, no proxy trusted", env: base(), admin: "127.0.0.1:8081"},
		{name: "CIDRs and addresses, spaces, masked", env: with("TRUSTED_PROXIES", " 10.1.2.3/8, 192.0.2.7 ,2001:db8::/32,,::1"),
			admin: "127.0.0.1:8081", proxies: []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128"}},
		{name: "two free ports", env: with("HTTP_ADDR", "127.0.0.1:0", "ADMIN_ADDR", "127.0.0.1:0"), admin: "127.0.0.1:0"},
		{name: "the public address", env: with("HTTP_ADDR", "0.0.0.0:8000", "ADMIN_ADDR", "0.0.0.0:8000"), wantErr: "config: ADMIN_ADDR is malformed: it must differ from HTTP_ADDR"},
		{name: "no port", env: with("ADMIN_ADDR", "127.0.0.1"), wantErr: "config: ADMIN_ADDR is malformed: want host:port"},
		{name: "a name", env: with("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"), wantErr: `config: TRUSTED_PROXIES is malformed: "proxy.internal"`},
		{name: "a bad length", env: with("TRUSTED_PROXIES", "10.0.0.0/33"), wantErr: `config: TRUSTED_PROXIES is malformed: "10.0.0.0/33"`},
		{name: "a zone", env: with("TRUSTED_PROXIES", "fe80::1%eth0"), wantErr: "config: TRUSTED_PROXIES is malformed"},
		{name: "IPv4 mapped", env: with("TRUSTED_PROXIES", "::ffff:10.0.0.1"), wantErr: "config: TRUSTED_PROXIES is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadFrom(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range c.TrustedProxies {
				got = append(got, p.String())
			}
			if c.AdminAddr != tt.admin || !slices.Equal(got, tt.proxies) {
				t.Fatalf("ADMIN_ADDR %q, proxies %v; want %q, %v", c.AdminAddr, got, tt.admin, tt.proxies)
			}
		})
	}
}
