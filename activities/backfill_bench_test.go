package activities_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
)

// yearOfECB turns the ECB's recorded SDMX series (testdata/ecb, from the
// ECB data API) for 2025 into one eurofxref history document, the format
// of eurofxref-hist.xml, values unchanged, newest day first.
func yearOfECB(b *testing.B) []byte {
	b.Helper()
	f, err := os.Open("../testdata/ecb/sdmx-exr-daily-2025-01-01.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	days := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != 4 || fields[0] != "D" || !strings.HasPrefix(fields[2], "2025-") {
			continue // header, the empty last record, 2026
		}
		days[fields[2]] = append(days[fields[2]], fmt.Sprintf(`<Cube currency="%s" rate="%s"/>`, fields[1], fields[3]))
	}
	var keys []string
	for d := range days {
		keys = append(keys, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube>`)
	for _, d := range keys {
		buf.WriteString(`<Cube time="` + d + `">` + strings.Join(days[d], "") + `</Cube>`)
	}
	buf.WriteString(`</Cube></gesmes:Envelope>`)
	return buf.Bytes()
}

// BenchmarkBackfillOneYear measures a backfill of 2025's ECB reference
// rates (255 days, about 7,000 rows) through the BackfillRates activity:
// one download of the history file from a stand-in, parsing, and the
// day-by-day inserts through the quality gate into a fresh database.
// BenchmarkBackfillFloor inserts the same rows with one plain InsertSets
// per day and no gate, the floor to compare with in the same run:
//
//	go test -run '^$' -bench Backfill -benchtime 3x ./activities/
func BenchmarkBackfillOneYear(b *testing.B) {
	doc := yearOfECB(b)
	var downloads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.Add(1)
		w.Write(doc)
	}))
	defer srv.Close()
	rdb, prefix := testenv.Redis(b)
	var rows int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := store.New(testenv.DB(b))
		a := &activities.Activities{
			Providers: map[string]provider.Source{ecb.Name: ecb.NewClient(srv.URL, provider.NewHTTPClient(0))},
			Rates:     st.Rates, Quality: st.Quality, Cache: cache.New(rdb, prefix), Now: time.Now, JumpLimit: policy.DefaultJumpLimit,
		}
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		before := downloads.Load()
		b.StartTimer()
		v, err := env.ExecuteActivity(a.BackfillRates, flow.BackfillInput{Provider: ecb.Name, From: "2025-01-01", To: "2025-12-31"})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		var res flow.BackfillResult
		if err := v.Get(&res); err != nil {
			b.Fatal(err)
		}
		if d := downloads.Load() - before; d != 1 || res.Days != 255 {
			b.Fatalf("backfill = %+v with %d downloads; want 255 days and one download", res, d)
		}
		rows = res.Inserted
		b.StartTimer()
	}
	b.ReportMetric(float64(rows), "rows/op")
	b.ReportMetric(float64(downloads.Load())/float64(b.N), "downloads/op")
}

func BenchmarkBackfillFloor(b *testing.B) {
	sets, err := ecb.Parse(ecb.Name, yearOfECB(b))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := store.New(testenv.DB(b))
		ctx := context.Background()
		b.StartTimer()
		for j := len(sets) - 1; j >= 0; j-- {
			if _, err := st.Rates.InsertSets(ctx, []fx.RateSet{sets[j]}, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
