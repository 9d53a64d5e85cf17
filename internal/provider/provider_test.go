package provider_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
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

func TestGetFileURL(t *testing.T) {
	dir := t.TempDir()
	payload := []byte(`<?xml version="1.0"?><gesmes:Envelope/>`)
	if err := os.WriteFile(filepath.Join(dir, "eurofxref-daily.xml"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	spaced := filepath.Join(dir, "with space")
	if err := os.Mkdir(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spaced, "GetAllExchangeRates"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.xml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64<<20 + 1); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	fileURL := func(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

	tests := []struct {
		name     string
		url      string
		want     string
		wantType string // "" success; "retryable" a plain error
		notExist bool
	}{
		{"reads the file", fileURL(filepath.Join(dir, "eurofxref-daily.xml")), string(payload), "", false},
		{"localhost host", "file://localhost" + filepath.ToSlash(filepath.Join(dir, "eurofxref-daily.xml")), string(payload), "", false},
		{"escaped path", fileURL(filepath.Join(spaced, "GetAllExchangeRates")), "[]", "", false},
		{"query ignored and not echoed", fileURL(filepath.Join(dir, "eurofxref-daily.xml")) + "?app_id=sekrit-key", string(payload), "", false},
		{"missing file is retryable", fileURL(filepath.Join(dir, "absent.xml")) + "?app_id=sekrit-key", "", "retryable", true},
		{"a directory is rejected", fileURL(dir) + "?app_id=sekrit-key", "", provider.TypeRequestRejected, false},
		{"too large", fileURL(big) + "?app_id=sekrit-key", "", provider.TypeInvalidPayload, false},
		{"remote host rejected", "file://example.com/etc/passwd?app_id=sekrit-key", "", provider.TypeRequestRejected, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := provider.Get(context.Background(), nil, "test", tt.url)
			switch tt.wantType {
			case "":
				if err != nil {
					t.Fatal(err)
				}
				if string(body) != tt.want {
					t.Fatalf("body = %q, want %q", body, tt.want)
				}
				return
			case "retryable":
				var pe *provider.PermanentError
				if err == nil || errors.As(err, &pe) {
					t.Fatalf("err = %v, want retryable", err)
				}
			default:
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType {
					t.Fatalf("err = %v, want %s", err, tt.wantType)
				}
			}
			if tt.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("err = %v, want fs.ErrNotExist", err)
			}
			if strings.Contains(err.Error(), "sekrit-key") {
				t.Fatalf("error leaks the API key: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "provider test: ") {
				t.Fatalf("error %q lacks the provider prefix", err)
			}
		})
	}

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := provider.Get(ctx, nil, "test", fileURL(filepath.Join(dir, "eurofxref-daily.xml")))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}
