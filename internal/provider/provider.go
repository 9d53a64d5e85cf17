// Package provider holds what the FX-rate provider adapters share: the
// classification of their failures into retryable and permanent ones, a
// careful HTTP GET (which also reads file URLs), and the Source interface
// ingestion uses them through. Each adapter lives in its own sub-package and is the
// only code that knows its vendor's format.
package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/tracing"
)

// Permanent failure types. They are the contract with the ingestion
// workflow's retry policy, which names them as non-retryable.
const (
	// TypeInvalidPayload: the provider answered, but with something CES
	// cannot trust (unparseable, missing base, non-positive or absurd rate).
	TypeInvalidPayload = "InvalidProviderPayload"
	// TypeAuthFailed: the provider refused the API key (401, 403).
	TypeAuthFailed = "ProviderAuthFailed"
	// TypeNoRatesForDate: the provider has no publication for the asked date.
	TypeNoRatesForDate = "NoRatesForDate"
	// TypeRequestRejected: any other 4xx; repeating the request cannot help.
	TypeRequestRejected = "ProviderRequestRejected"
)

// PermanentTypes lists every permanent failure type.
var PermanentTypes = []string{TypeInvalidPayload, TypeAuthFailed, TypeNoRatesForDate, TypeRequestRejected}

// PermanentError is a failure that retrying cannot fix.
type PermanentError struct {
	Type string
	Err  error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent returns a PermanentError of type typ.
func Permanent(typ string, err error) error { return &PermanentError{Type: typ, Err: err} }

// Invalid returns a TypeInvalidPayload error with a formatted message.
func Invalid(format string, args ...any) error {
	return Permanent(TypeInvalidPayload, fmt.Errorf(format, args...))
}

// maxPayload bounds a provider response; the ECB's full history is about
// 8 MB uncompressed, so this leaves room without trusting the peer blindly.
const maxPayload = 64 << 20

// Get fetches u with client and classifies the outcome: 2xx returns the
// body; 401/403 and other 4xx (but 408 and 429) are permanent; 5xx, 408,
// 429, timeouts and connection errors are returned as plain (retryable)
// errors. name prefixes messages; errors never contain u's query string,
// which may carry an API key.
//
// A file URL (file:///abs/dir/eurofxref-daily.xml) reads the local file
// at its path instead, under the same size bound, so an offline demo can
// point a provider's base URL at a folder of recorded payloads.
func Get(ctx context.Context, client *http.Client, name, u string) ([]byte, error) {
	shown := redact(u)
	if p, err := url.Parse(u); err == nil && strings.EqualFold(p.Scheme, "file") {
		return getFile(ctx, name, shown, p)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: build request for %s", name, shown))
	}
	return do(client, name, shown, req)
}

// Post sends body to u with the given request headers (a SOAP envelope
// or a form, for the publishers that answer only POST requests) and
// classifies the outcome exactly as Get does. A file URL reads the local
// file at its path, ignoring body, so an offline demo can serve a recorded
// answer for a POST endpoint too.
func Post(ctx context.Context, client *http.Client, name, u string, header http.Header, body []byte) ([]byte, error) {
	shown := redact(u)
	if p, err := url.Parse(u); err == nil && strings.EqualFold(p.Scheme, "file") {
		return getFile(ctx, name, shown, p)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: build request for %s", name, shown))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return do(client, name, shown, req)
}

// do sends req, whose URL is shown redacted as shown, and classifies the
// answer (see Get).
//
// The call is a client span of CES's own rather than otelhttp's, whose
// url.full attribute keeps the query string, where Open Exchange Rates'
// and FRED's keys travel: this one records the URL as shown, without it.
// No trace context is sent to the publisher.
func do(client *http.Client, name, shown string, req *http.Request) (_ []byte, err error) {
	spanName := "HTTP GET"
	if req.Method == http.MethodPost {
		spanName = "HTTP POST"
	}
	ctx, span := tracing.StartClient(req.Context(), spanName)
	defer func() { span.Fail(err); span.End() }()
	if span.Recording() {
		span.SetString("ces.provider", name)
		span.SetString("http.request.method", req.Method)
		span.SetString("url.full", shown)
		span.SetString("server.address", req.URL.Hostname())
		req = req.WithContext(ctx)
	}
	req.Header.Set("User-Agent", "ces/1 (+currency exchange service)")
	resp, err := client.Do(req)
	if err == nil {
		span.SetInt("http.response.status_code", resp.StatusCode)
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the full URL, key included
		}
		return nil, fmt.Errorf("provider %s: GET %s: %w", name, shown, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("provider %s: read %s: %w", name, shown, err)
	}
	if len(body) > maxPayload {
		return nil, Invalid("provider %s: %s: response larger than %d bytes", name, shown, maxPayload)
	}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return body, nil
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		return nil, Permanent(TypeAuthFailed, fmt.Errorf("provider %s: %s: HTTP %d: the API key was refused", name, shown, c))
	case c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500:
		return nil, fmt.Errorf("provider %s: %s: HTTP %d", name, shown, c)
	case c == http.StatusNotFound:
		return nil, Permanent(TypeNoRatesForDate, fmt.Errorf("provider %s: %s: HTTP 404", name, shown))
	default:
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: %s: HTTP %d", name, shown, c))
	}
}

// getFile reads the file a file URL names. A missing or unreadable file
// is retryable (the operator may be copying it into place); a file over
// the size bound is an invalid payload, as an oversized response is; a
// directory, or a URL naming another host, is rejected (CES reads only
// local files).
func getFile(ctx context.Context, name, shown string, p *url.URL) ([]byte, error) {
	if p.Host != "" && !strings.EqualFold(p.Host, "localhost") {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: %s: file URLs must name a local path", name, shown))
	}
	if p.Path == "" {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: %s: file URL has no path", name, shown))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("provider %s: read %s: %w", name, shown, err)
	}
	f, err := os.Open(p.Path)
	if err != nil {
		return nil, fmt.Errorf("provider %s: read %s: %w", name, shown, unwrapPath(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, Permanent(TypeRequestRejected, fmt.Errorf("provider %s: %s is a directory", name, shown))
	}
	body, err := io.ReadAll(io.LimitReader(f, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("provider %s: read %s: %w", name, shown, unwrapPath(err))
	}
	if len(body) > maxPayload {
		return nil, Invalid("provider %s: %s: file larger than %d bytes", name, shown, maxPayload)
	}
	return body, nil
}

// unwrapPath drops an fs.PathError's path, which the message already shows
// as the redacted URL; errors.Is(err, fs.ErrNotExist) still holds.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	p.User = nil
	p.RawQuery = ""
	return p.String()
}

// DefaultHTTPTimeout bounds one provider request unless FX_HTTP_TIMEOUT
// says otherwise.
const DefaultHTTPTimeout = 30 * time.Second

// NewHTTPClient returns the client adapters use: bounded in time (zero
// means DefaultHTTPTimeout) so a hung provider becomes a retryable timeout
// instead of a stuck activity.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	return &http.Client{Timeout: timeout}
}

// Hash returns the hex SHA-256 of a raw payload, stored with every row it yields.
func Hash(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// Builder collects the quotes of one payload, enforcing what every
// adapter must: ISO 4217 codes only (others skipped and counted), no
// duplicates, and sane values. The base currency quoting itself is dropped.
type Builder struct {
	set  fx.RateSet
	seen map[string]bool
}

// NewBuilder starts a RateSet for provider and base published at asOf.
func NewBuilder(provider, base string, asOf time.Time, payload []byte) (*Builder, error) {
	if _, ok := fx.LookupCurrency(base); !ok {
		return nil, Invalid("provider %s: base %q is not an ISO 4217 currency", provider, base)
	}
	if asOf.IsZero() {
		return nil, Invalid("provider %s: payload has no publication time", provider)
	}
	return &Builder{
		set:  fx.RateSet{Provider: provider, Base: base, AsOf: asOf.UTC(), PayloadHash: Hash(payload)},
		seen: map[string]bool{},
	}, nil
}

// Add records one quote given as text. Malformed or implausible values
// make the whole payload invalid: a provider that sends one broken rate
// cannot be trusted for the others in the same payload.
func (b *Builder) Add(code, value string) error {
	if b.seen[code] {
		return Invalid("provider %s: %s appears twice", b.set.Provider, code)
	}
	b.seen[code] = true
	d, err := parseRate(value)
	if err != nil {
		return Invalid("provider %s: %s rate %q: %v", b.set.Provider, code, value, err)
	}
	if err := fx.ValidateRate(d); err != nil {
		return Invalid("provider %s: %s: %v", b.set.Provider, code, err)
	}
	if code == b.set.Base {
		return nil
	}
	if _, ok := fx.LookupCurrency(code); !ok {
		b.set.Skipped = append(b.set.Skipped, code)
		return nil
	}
	b.set.Rates = append(b.set.Rates, fx.QuotedRate{Quote: code, Value: d})
	return nil
}

// Build returns the set, quotes sorted by code. An empty set is invalid.
func (b *Builder) Build() (fx.RateSet, error) {
	if len(b.set.Rates) == 0 {
		return fx.RateSet{}, Invalid("provider %s: payload has no usable rates", b.set.Provider)
	}
	sort.Slice(b.set.Rates, func(i, j int) bool { return b.set.Rates[i].Quote < b.set.Rates[j].Quote })
	sort.Strings(b.set.Skipped)
	return b.set, nil
}
