package provider_test

import (
	"testing"

	"ces/internal/provider"
)

func TestFloatText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4.2199999999999998", "4.22"},
		{"104.76819999999999", "104.7682"},
		{"0.097000000000000003", "0.097"},
		{"0.014999999999999999", "0.015"},
		{"12.252700000000001", "12.2527"},
		{"192.04911000000001", "192.04911"},
		{"0.99708600000000003", "0.997086"},
		{"104.5973", "104.5973"},
		{"3.927", "3.927"},
		{"279.35178571428565", "279.35178571428565"}, // an average: every digit is real
		{"1.23456789", "1.23456789"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := provider.FloatText(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Fatalf("FloatText(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "NaN", "1,5", "abc"} {
		if _, err := provider.FloatText(bad); err == nil {
			t.Errorf("FloatText(%q) accepted", bad)
		}
	}
}
