package provider_test

import (
	"testing"

	"ces/internal/provider"
)

func TestMid(t *testing.T) {
	tests := []struct{ buy, sell, want string }{
		{"53.0734", "53.2067", "53.14005"}, // the extra digit is kept
		{"53.10", "53.30", "53.20"},        // no zero beyond the inputs' digits
		{"7.79", "7.8118", "7.8009"},
		{"1", "2", "1.5"},
		{"157.4", "157.6", "157.5"},
	}
	for _, tt := range tests {
		t.Run(tt.buy+"+"+tt.sell, func(t *testing.T) {
			got, err := provider.Mid(tt.buy, tt.sell)
			if err != nil || got != tt.want {
				t.Fatalf("Mid = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := provider.Mid("n/a", "1"); err == nil {
		t.Fatal("Mid accepted a text rate")
	}
}
