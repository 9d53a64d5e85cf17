package httpapi

import (
	"encoding/json"
	"testing"
)

// TestErrorBodyEncoding: the hand-written error body is encoding/json's,
// byte for byte, for every byte value, invalid UTF-8, the characters
// encoding/json escapes and messages as the API writes them.
func TestErrorBodyEncoding(t *testing.T) {
	var every []byte
	for b := 0; b < 256; b++ {
		every = append(every, byte(b))
	}
	tests := []struct {
		name string
		ae   apiError
	}{
		{"unknown currency", apiError{Code: CodeInvalidCurrency, Field: "to", Message: `invalid currency: "XXY" is not an ISO 4217 currency`}},
		{"no field", apiError{Code: CodeRateNotFound, Message: "rate not found: nothing stored for USD/GBP on or before 2010-01-01T23:59:59Z"}},
		{"every byte", apiError{Code: "c", Field: string(every), Message: string(every)}},
		{"html and separators", apiError{Code: "<&>", Message: "a\u2028b\u2029c é 日本 \U0001F600 \\ \" \t\n\r\b\f"}},
		{"invalid utf-8", apiError{Code: "x", Message: "\xff\xfe ok \xc3 \xe2\x82"}},
		{"empty", apiError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(errorBody{Error: errorDetail{Code: tt.ae.Code, Message: tt.ae.Message, Field: tt.ae.Field}})
			if err != nil {
				t.Fatal(err)
			}
			if got := appendErrorBody(nil, &tt.ae); string(got) != string(want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}
