package provider

import (
	"errors"
	"strings"

	"github.com/shopspring/decimal"
)

// parseRate reads a provider's decimal text exactly. Exponent notation is
// accepted (JSON allows it and it loses nothing in decimal); NaN, infinities
// and anything else that is not a number are not.
func parseRate(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Decimal{}, errors.New("empty")
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789.+-eE", r) {
			return decimal.Decimal{}, errors.New("not a decimal number")
		}
	}
	return decimal.NewFromString(s)
}
