package rates

import (
	"ces/internal/catalog"
	"ces/internal/policy"
)

// referencePublisher is the publisher ranked after issuers and pegs in the
// default source policy: the ECB, whose reference rates cover the most
// currencies of any issuer's.
const referencePublisher = "ecb"

// DefaultAuthority is the default source policy over the catalogue (see
// policy.Authority): each publisher that issues a currency prices it, the
// pegs price the pegged currencies, then the ECB, then the rest.
func DefaultAuthority() *policy.Authority {
	a := &policy.Authority{Issuer: map[string]string{}, Peg: catalog.PegProvider, Reference: referencePublisher}
	for _, p := range catalog.All() {
		if p.Issues != "" {
			a.Issuer[p.Issues] = p.Key
		}
	}
	return a
}
