package clients

import (
	"fmt"
	"testing"
	"time"
)

// TestAddressQuotas: each address has its own allowance, an IPv6
// subscriber's /64 is one address, 0 is no quota, and a flood of
// addresses leaves the table within its bound.
func TestAddressQuotas(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	q := NewAddressQuotas(2, func() time.Time { return now })
	for _, tt := range []struct {
		address string
		allowed bool
	}{
		{"192.0.2.1", true},
		{"192.0.2.1", true},
		{"192.0.2.1", false},
		{"::ffff:192.0.2.1", false}, // the same address, mapped
		{"192.0.2.2", true},
		{"2001:db8:0:1::1", true},
		{"2001:db8:0:1:ffff::2", true}, // the same /64
		{"2001:db8:0:1::3", false},
		{"2001:db8:0:2::1", true}, // the next /64
		{"fe80::1%eth0", true},
		{"fe80::2%eth1", true}, // zones are not addresses
		{"fe80::3", false},
	} {
		if v := q.Take(tt.address); v.Allowed != tt.allowed || !v.Checked || v.Limit != 2 {
			t.Fatalf("%s: %+v, want allowed %v", tt.address, v, tt.allowed)
		}
	}
	if v := NewAddressQuotas(0, nil).Take("192.0.2.1"); !v.Allowed {
		t.Fatalf("no quota: %+v", v)
	}
	for i := range maxAddresses + 5000 {
		q.Take(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff))
	}
	q.buckets.CleanUp()
	if n := q.buckets.EstimatedSize(); n > maxAddresses {
		t.Fatalf("%d addresses tracked, want at most %d", n, maxAddresses)
	}
}
