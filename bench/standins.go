package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync/atomic"
)

// blackHole accepts connections on l and never answers, until l closes.
func blackHole(l net.Listener) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		go io.Copy(io.Discard, c)
	}
}

// ecbStandIn serves the ECB's files from a recording of its data API
// (testdata/ecb/sdmx-exr-daily-2025-01-01.csv, daily reference rates
// 2025-01-02 to 2026-03-18), re-encoded as the ECB's eurofxref XML: the
// history files hold every day, newest first, the daily file the newest.
// It counts the history downloads.
func ecbStandIn(csvPath string) (*httptest.Server, *atomic.Int64, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("ECB recording: %w", err)
	}
	days := map[string][]string{}
	for _, rec := range records[1:] {
		if len(rec) != 4 || rec[1] == "" || rec[3] == "" {
			continue // the recording ends with an empty record
		}
		days[rec[2]] = append(days[rec[2]], fmt.Sprintf(`<Cube currency="%s" rate="%s"/>`, rec[1], rec[3]))
	}
	dates := make([]string, 0, len(days))
	for d := range days {
		dates = append(dates, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dates)))
	doc := func(dates []string) []byte {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender><Cube>`)
		for _, d := range dates {
			b.WriteString(`<Cube time="` + d + `">` + strings.Join(days[d], "") + "</Cube>\n")
		}
		b.WriteString("</Cube></gesmes:Envelope>")
		return []byte(b.String())
	}
	hist, daily := doc(dates), doc(dates[:1])
	var downloads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/eurofxref-daily.xml"):
			w.Write(daily)
		case strings.Contains(r.URL.Path, "/eurofxref-hist"):
			downloads.Add(1)
			w.Write(hist)
		default:
			http.NotFound(w, r)
		}
	}))
	return srv, &downloads, nil
}
