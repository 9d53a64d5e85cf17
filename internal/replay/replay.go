// Package replay provides an http.Handler that stands in for every
// publisher by replaying the answers recorded under testdata/<key>/, so
// the whole stack (schedules, backfills, the API) runs offline against
// real payloads. A request to /<key>/<rest> is answered from the
// manifest testdata/<key>/replay.json, where <rest> is the path relative
// to the adapter's base URL: point FX_<KEY>_BASE_URL at <server>/<key>.
//
// A manifest is JSON:
//
//	{
//	  "backfill": {"from": "2026-03-17", "to": "2026-03-20"},
//	  "routes": [
//	    {"method": "GET", "path": "/xudl.csv",
//	     "query": {"from": "2026-03-17", "to": "*"},
//	     "file": "xudl-2026-03-17-to-2026-03-20.csv",
//	     "type": "text/csv; charset=utf-8"}
//	  ],
//	  "unmatched": 404
//	}
//
// backfill is the date range the recordings hold, for a demo to backfill.
// Each route names a method (GET when empty), a path and, optionally, the
// query parameters, form fields (of a urlencoded POST), request headers
// and body a request must carry; values are patterns in which "*" stands
// for any run of characters, so "*" alone means "present, any value" (an
// API key, a CSRF token, "today" in a range an adapter asks for to find
// its newest publication). Parameters a route does not name are ignored.
// The first matching route wins and answers its file (relative to the
// manifest's folder) with status (200 when 0), type (from the file's
// extension when empty) and headers, which carry what a multi-step
// exchange needs (a session cookie a form post must return). A request no
// route matches gets unmatched (404 when 0) and an empty body: what a
// publisher answers for a day it did not publish, so a backfill skips it.
//
// Since the first match wins, a publisher that serves one date per
// request lists each recorded date, then the same request with the date
// "*" answered by the newest recording: Latest, which asks for today (or
// walks back from it), finds that, while a backfill over the recorded days
// gets each day's own answer. A publisher that serves a range is matched
// on any range and answers its one recording; the adapter keeps the days
// asked for.
package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestName is the file, in each publisher's testdata folder, that
// describes its recordings.
const ManifestName = "replay.json"

// Manifest describes how one publisher's recordings answer requests.
type Manifest struct {
	Backfill  Range   `json:"backfill"`
	Routes    []Route `json:"routes"`
	Unmatched int     `json:"unmatched,omitempty"`

	// dir is the folder the manifest and its files are read from.
	dir string
}

// Range is a span of publication dates, YYYY-MM-DD, both inclusive.
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Dates returns the range's bounds as midnight UTC.
func (r Range) Dates() (from, to time.Time, err error) {
	from, err = time.Parse(time.DateOnly, r.From)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("replay: backfill from: %w", err)
	}
	to, err = time.Parse(time.DateOnly, r.To)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("replay: backfill to: %w", err)
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, fmt.Errorf("replay: backfill from %s is after to %s", r.From, r.To)
	}
	return from, to, nil
}

// Route is one recorded answer and the requests it answers.
type Route struct {
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query,omitempty"`
	Form    map[string]string `json:"form,omitempty"`
	Header  map[string]string `json:"header,omitempty"`
	Body    string            `json:"body,omitempty"`
	File    string            `json:"file"`
	Status  int               `json:"status,omitempty"`
	Type    string            `json:"type,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// Handler replays every loaded publisher's recordings.
type Handler struct {
	manifests map[string]*Manifest
}

// Load reads dir/<key>/replay.json of every publisher folder in dir that
// has one, checking that every file a route names exists.
func Load(dir string) (*Handler, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("replay: read %s: %w", dir, err)
	}
	h := &Handler{manifests: map[string]*Manifest{}}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		m, err := ReadManifest(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		h.manifests[e.Name()] = m
	}
	return h, nil
}

// ReadManifest reads and checks the manifest in a publisher's folder; an
// absent manifest is an error wrapping fs.ErrNotExist.
func ReadManifest(dir string) (*Manifest, error) {
	name := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("replay: %s: %w", name, err)
	}
	if _, _, err := m.Backfill.Dates(); err != nil {
		return nil, fmt.Errorf("replay: %s: %w", name, err)
	}
	if len(m.Routes) == 0 {
		return nil, fmt.Errorf("replay: %s: no routes", name)
	}
	for i, r := range m.Routes {
		if r.File == "" || filepath.IsAbs(r.File) || strings.Contains(r.File, "..") {
			return nil, fmt.Errorf("replay: %s: route %d: file %q must name a file in the folder", name, i, r.File)
		}
		if _, err := os.Stat(filepath.Join(dir, r.File)); err != nil {
			return nil, fmt.Errorf("replay: %s: route %d: %w", name, i, err)
		}
	}
	m.dir = dir
	return &m, nil
}

// Keys returns the keys of the publishers loaded, sorted.
func (h *Handler) Keys() []string {
	out := make([]string, 0, len(h.manifests))
	for k := range h.manifests {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Manifest returns the manifest loaded for key.
func (h *Handler) Manifest(key string) (*Manifest, bool) {
	m, ok := h.manifests[key]
	return m, ok
}

// ServeHTTP answers /<key>/<rest> from key's manifest.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	m, ok := h.manifests[key]
	if !ok {
		http.Error(w, "replay: no recordings for "+key, http.StatusNotFound)
		return
	}
	// The body is read once here: a route may match on it or on its form.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "replay: read body", http.StatusBadRequest)
		return
	}
	var form url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(body))
	}
	rest = "/" + rest
	for _, rt := range m.Routes {
		if !rt.matches(r, rest, form, string(body)) {
			continue
		}
		m.serve(w, rt)
		return
	}
	status := m.Unmatched
	if status == 0 {
		status = http.StatusNotFound
	}
	w.WriteHeader(status)
}

// matches reports whether a request for rest (the path below the
// publisher's prefix) with the given form and body is one rt answers.
func (rt Route) matches(r *http.Request, rest string, form url.Values, body string) bool {
	method := rt.Method
	if method == "" {
		method = http.MethodGet
	}
	if r.Method != method || !Match(rt.Path, rest) {
		return false
	}
	q := r.URL.Query()
	for k, p := range rt.Query {
		if !q.Has(k) || !Match(p, q.Get(k)) {
			return false
		}
	}
	for k, p := range rt.Form {
		if !form.Has(k) || !Match(p, form.Get(k)) {
			return false
		}
	}
	for k, p := range rt.Header {
		if !Match(p, r.Header.Get(k)) {
			return false
		}
	}
	return rt.Body == "" || Match(rt.Body, body)
}

// serve writes rt's recorded answer.
func (m *Manifest) serve(w http.ResponseWriter, rt Route) {
	b, err := os.ReadFile(filepath.Join(m.dir, rt.File))
	if err != nil {
		http.Error(w, "replay: "+err.Error(), http.StatusInternalServerError)
		return
	}
	typ := rt.Type
	if typ == "" {
		typ = mime.TypeByExtension(path.Ext(rt.File))
	}
	if typ == "" {
		typ = http.DetectContentType(b)
	}
	w.Header().Set("Content-Type", typ)
	for k, v := range rt.Headers {
		w.Header().Add(k, v)
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Match reports whether s matches pattern, in which each "*" stands for
// any run of characters (slashes included) and every other character for
// itself.
func Match(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
