package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// validateListeners checks ADMIN_ADDR against HTTP_ADDR and parses
// TRUSTED_PROXIES into TrustedProxies.
func (c *Config) validateListeners() error {
	_, port, err := net.SplitHostPort(c.AdminAddr)
	if err != nil {
		return errors.New("config: ADMIN_ADDR is malformed: want host:port such as 127.0.0.1:8081")
	}
	// Port 0 asks the kernel for a free port: two of them never clash.
	if c.AdminAddr == c.HTTPAddr && port != "0" {
		return errors.New("config: ADMIN_ADDR is malformed: it must differ from HTTP_ADDR (the admin console and /metrics stay off the public listener)")
	}
	c.TrustedProxies = nil
	for _, item := range strings.Split(c.TrustedProxiesText, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseNetwork(item)
		if err != nil {
			// The text is an address range, not a secret: naming it helps.
			return fmt.Errorf("config: TRUSTED_PROXIES is malformed: %q is not a CIDR (10.0.0.0/8) or an address", item)
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	return nil
}

// parseNetwork reads a CIDR, or one address as the network of that
// address alone. IPv4-mapped IPv6 forms are refused: a peer's address is
// compared in its plain IPv4 form.
func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return netip.Prefix{}, errors.New("not an address")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, errors.New("not a CIDR")
	}
	return p.Masked(), nil
}
