// Package clientaddr decides which address a request came from: the
// peer's, or, when the peer is a proxy the operator trusts
// (TRUSTED_PROXIES), the one its X-Forwarded-For names. Receipts
// (client_address), the admin console's sign-in lock-out and the access
// log all use it, so that they agree.
package clientaddr

import (
	"bytes"
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

// HeaderForwardedFor is the forwarding header read from trusted proxies.
const HeaderForwardedFor = "X-Forwarded-For"

// Proxies are the networks whose peers may say, in X-Forwarded-For, whom
// they forward for.
type Proxies []netip.Prefix

// Trusts reports whether a is inside one of the networks.
func (p Proxies) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Strings is p in the text form fiber.Config's TrustedProxies takes.
func (p Proxies) Strings() []string {
	out := make([]string, len(p))
	for i, n := range p {
		out[i] = n.String()
	}
	return out
}

// Resolve returns the client's address of a request from peer that
// carried the X-Forwarded-For headers forwarded (in the order received).
//
// A peer outside p is the client: whatever it wrote in the header is
// ignored. A trusted peer's header is read from the right, since each
// proxy appends the address it received from and only the entries added
// by trusted proxies can be believed: the first address from the right
// that p does not trust is the client; the leftmost entry is never taken
// merely for being first, because a client writes what it likes there.
// An entry that is not a plain IP address (a client's invention, or a
// proxy that appends ports or names) ends the walk at the nearest address
// already believed, so the answer is always an address a trusted hop
// vouched for, in canonical form (IPv4-mapped IPv6 as IPv4).
func (p Proxies) Resolve(peer netip.Addr, forwarded [][]byte) netip.Addr {
	peer = peer.Unmap()
	if !p.Trusts(peer) {
		return peer
	}
	addr := peer
	for i := len(forwarded) - 1; i >= 0; i-- {
		h := forwarded[i]
		for len(h) > 0 {
			var elem []byte
			if j := bytes.LastIndexByte(h, ','); j >= 0 {
				h, elem = h[:j], h[j+1:]
			} else {
				h, elem = nil, h
			}
			elem = bytes.TrimSpace(elem)
			if len(elem) == 0 {
				continue // "a, , b" or a trailing comma: no hop
			}
			a, err := netip.ParseAddr(string(elem))
			if err != nil || a.Zone() != "" {
				return addr
			}
			a = a.Unmap()
			if !p.Trusts(a) {
				return a
			}
			addr = a
		}
	}
	// Every hop is trusted: the request began at one of them.
	return addr
}

// localsKey is where Middleware leaves the address for Of.
type localsKey struct{}

// Middleware resolves each request's client address once, for Of.
func Middleware(p Proxies) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localsKey{}, p.Resolve(peerOf(c), c.Request().Header.PeekAll(HeaderForwardedFor)).String())
		return c.Next()
	}
}

// Of returns the client address Middleware resolved for this request, or
// the peer's address on an app without it. The string is the request's
// own (not a buffer Fiber reuses), safe to keep.
func Of(c *fiber.Ctx) string {
	if a, ok := c.Locals(localsKey{}).(string); ok {
		return a
	}
	return peerOf(c).String()
}

// peerOf is the address of the connection's other end.
func peerOf(c *fiber.Ctx) netip.Addr {
	// fasthttp answers 0.0.0.0 for a connection that is not TCP.
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}
