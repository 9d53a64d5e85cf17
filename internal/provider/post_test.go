package provider_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ces/internal/provider"
)

func TestPost(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantType string // "" means success or retryable
		wantErr  bool
	}{
		{"ok", 200, "", false},
		{"server error is retryable", 500, "", true},
		{"404", 404, provider.TypeNoRatesForDate, true},
		{"403", 403, provider.TypeAuthFailed, true},
		{"400", 400, provider.TypeRequestRejected, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.Header.Get("SOAPAction") != "act" || string(body) != "<x/>" {
					http.Error(w, "unexpected request", http.StatusTeapot)
					return
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, "answer")
			}))
			defer srv.Close()
			got, err := provider.Post(context.Background(), srv.Client(), "test", srv.URL+"/svc?key=secret",
				http.Header{"SOAPAction": {"act"}}, []byte("<x/>"))
			if !tt.wantErr {
				if err != nil || string(got) != "answer" {
					t.Fatalf("Post = %q, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q shows the query string", err)
			}
			var pe *provider.PermanentError
			if isPerm := errors.As(err, &pe); isPerm != (tt.wantType != "") || (isPerm && pe.Type != tt.wantType) {
				t.Fatalf("err = %v, want type %q", err, tt.wantType)
			}
		})
	}
}
