package provider_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"ces/internal/provider"
)

func TestPostForm(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		permanent string // "" when the error must be retryable, "-" when there is none
	}{
		{"ok", http.StatusOK, "-"},
		{"server error", http.StatusBadGateway, ""},
		{"rejected", http.StatusBadRequest, provider.TypeRequestRejected},
		{"not found", http.StatusNotFound, provider.TypeNoRatesForDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
					string(b) != "a=1&b=x+y" {
					t.Errorf("request %s %s %q", r.Method, r.Header.Get("Content-Type"), b)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte("answer"))
			}))
			defer srv.Close()
			body, err := provider.PostForm(context.Background(), srv.Client(), "test", srv.URL+"/page.aspx?key=secret",
				url.Values{"a": {"1"}, "b": {"x y"}})
			if tt.permanent == "-" {
				if err != nil || string(body) != "answer" {
					t.Fatalf("body %q, err %v", body, err)
				}
				return
			}
			if err == nil || strings.Contains(err.Error(), "secret") {
				t.Fatalf("err = %v, want an error without the query", err)
			}
			var pe *provider.PermanentError
			if got := errors.As(err, &pe); got != (tt.permanent != "") || (got && pe.Type != tt.permanent) {
				t.Fatalf("err = %v (%T), want permanent %q", err, err, tt.permanent)
			}
		})
	}
	if _, err := provider.PostForm(context.Background(), http.DefaultClient, "test", "file:///tmp/x", nil); err == nil {
		t.Fatal("a file URL was posted to")
	}
}
