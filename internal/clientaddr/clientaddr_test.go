package clientaddr_test

import (
	"net/netip"
	"strings"
	"testing"

	"ces/internal/clientaddr"
)

func TestResolve(t *testing.T) {
	proxies := clientaddr.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	tests := []struct {
		name      string
		peer      string
		forwarded []string
		want      string
	}{
		{"an untrusted peer is the client", "198.51.100.9", []string{"203.0.113.7"}, "198.51.100.9"},
		{"an untrusted peer's header is ignored whatever it says", "198.51.100.9", []string{"10.0.0.1, 10.0.0.2"}, "198.51.100.9"},
		{"no header from a trusted peer", "10.0.0.1", nil, "10.0.0.1"},
		{"one hop", "10.0.0.1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"the client's own entries left of the hop are not believed", "10.0.0.1", []string{"192.0.2.1, 192.0.2.2,203.0.113.7"}, "203.0.113.7"},
		{"trusted hops are skipped from the right", "10.0.0.1", []string{"192.0.2.1, 203.0.113.7, 10.9.9.9, 10.0.0.5"}, "203.0.113.7"},
		{"a spoofed trusted entry left of the client stays unread", "10.0.0.1", []string{"10.0.0.3, 203.0.113.7"}, "203.0.113.7"},
		{"every hop trusted: the leftmost", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"headers in order, read from the last", "10.0.0.1", []string{"192.0.2.1", "203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"an empty header and stray commas", "10.0.0.1", []string{"", " ,203.0.113.7,, "}, "203.0.113.7"},
		{"a malformed entry stops at the nearest believed hop", "10.0.0.1", []string{"203.0.113.7, not-an-ip, 10.0.0.2"}, "10.0.0.2"},
		{"a port is malformed", "10.0.0.1", []string{"203.0.113.7:4711"}, "10.0.0.1"},
		{"a zone is malformed", "10.0.0.1", []string{"fe80::1%eth0"}, "10.0.0.1"},
		{"invalid UTF-8 and control bytes", "10.0.0.1", []string{"\xff\x00\x1b[31m"}, "10.0.0.1"},
		{"a long header", "10.0.0.1", []string{strings.Repeat("192.0.2.1,", 500) + "203.0.113.7"}, "203.0.113.7"},
		{"IPv6 client behind an IPv6 proxy", "2001:db8:1::5", []string{"2001:DB8:2::0:7"}, "2001:db8:2::7"},
		{"IPv4-mapped peer and entry are compared as IPv4", "::ffff:10.0.0.1", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fwd [][]byte
			for _, h := range tt.forwarded {
				fwd = append(fwd, []byte(h))
			}
			if got := proxies.Resolve(netip.MustParseAddr(tt.peer), fwd).String(); got != tt.want {
				t.Fatalf("Resolve(%s, %q) = %s, want %s", tt.peer, tt.forwarded, got, tt.want)
			}
		})
	}
}

func TestNoProxiesTrustNoOne(t *testing.T) {
	var none clientaddr.Proxies
	if got := none.Resolve(netip.MustParseAddr("127.0.0.1"), [][]byte{[]byte("203.0.113.7")}); got.String() != "127.0.0.1" {
		t.Fatalf("without TRUSTED_PROXIES the header was believed: %s", got)
	}
}
