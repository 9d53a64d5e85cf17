package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ces/internal/provider"
)

func TestGetClassifiesFailures(t *testing.T) {
	tests := []struct {
		status   int
		wantType string // "" means retryable
	}{
		{200, ""},
		{401, provider.TypeAuthFailed},
		{403, provider.TypeAuthFailed},
		{404, provider.TypeNoRatesForDate},
		{400, provider.TypeRequestRejected},
		{408, ""},
		{429, ""},
		{500, ""},
		{502, ""},
		{503, ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte("{}"))
			}))
			defer srv.Close()
			_, err := provider.Get(context.Background(), srv.Client(), "test", srv.URL+"/latest.json?app_id=sekrit-key")
			if tt.status == 200 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), "sekrit-key") {
				t.Fatalf("error leaks the API key: %v", err)
			}
			var pe *provider.PermanentError
			isPermanent := errors.As(err, &pe)
			if tt.wantType == "" && isPermanent {
				t.Fatalf("HTTP %d classified permanent (%s), want retryable", tt.status, pe.Type)
			}
			if tt.wantType != "" && (!isPermanent || pe.Type != tt.wantType) {
				t.Fatalf("HTTP %d: err = %v, want permanent %s", tt.status, err, tt.wantType)
			}
		})
	}
}

func TestGetTimeoutAndConnectionErrorsAreRetryable(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name   string
		client *http.Client
		url    string
	}{
		{"timeout", &http.Client{Timeout: 100 * time.Millisecond}, slow.URL + "/x?app_id=sekrit-key"},
		{"connection refused", &http.Client{Timeout: time.Second}, closedURL + "/x?app_id=sekrit-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provider.Get(context.Background(), tt.client, "test", tt.url)
			if err == nil {
				t.Fatal("want an error")
			}
			var pe *provider.PermanentError
			if errors.As(err, &pe) {
				t.Fatalf("%s classified permanent: %v", tt.name, err)
			}
			if strings.Contains(err.Error(), "sekrit-key") {
				t.Fatalf("error leaks the API key: %v", err)
			}
		})
	}
}
