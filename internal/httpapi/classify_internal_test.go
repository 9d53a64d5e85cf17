package httpapi

import (
	"fmt"
	"testing"

	"ces/internal/fx"
)

// TestClassifyAllocatesOnlyItsAnswer: classifying a refusal allocates the
// answer and nothing else (plus the message, when the error builds it in
// Error), so that a 404 costs what a 200 does (issue 29); each errors.As
// target would cost one more.
func TestClassifyAllocatesOnlyItsAnswer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		code   string
		allocs float64
	}{
		{"a rate not found, wrapped", fmt.Errorf("rates: at 2000-01-03: %w", fx.ErrRateNotFound), CodeRateNotFound, 1},
		{"a bad amount with its field", fieldErr{field: "amount", err: fmt.Errorf("%w: not a number", fx.ErrInvalidAmount)}, CodeInvalidAmount, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err).Code; got != tt.code {
				t.Fatalf("code %q, want %q", got, tt.code)
			}
			if n := testing.AllocsPerRun(100, func() { classify(tt.err) }); n > tt.allocs {
				t.Errorf("classify made %.0f allocations, want %.0f", n, tt.allocs)
			}
		})
	}
}

// fieldErr is an error naming the field it is about, as the conversions
// service's are.
type fieldErr struct {
	field string
	err   error
}

func (e fieldErr) Error() string { return e.field + ": " + e.err.Error() }
func (e fieldErr) Unwrap() error { return e.err }
func (e fieldErr) Field() string { return e.field }
