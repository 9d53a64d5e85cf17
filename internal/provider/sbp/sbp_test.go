package sbp_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/providertest"
	"ces/internal/provider/sbp"
)

var _ provider.Source = (*sbp.Client)(nil)

const recordings = "../../../testdata/sbp"

// serve answers the two workbooks from the recordings (the archive
// trimmed to its last ten days), or answer for both when it is set, and
// counts the requests.
func serve(t *testing.T, answer []byte) (*sbp.Client, *atomic.Int32) {
	t.Helper()
	files := map[string]string{
		"/assets/document/BFER_Daily.xlsx":      "BFER_Daily.xlsx",
		"/assets/document/BFER_Daily_Arch.xlsx": "BFER_Daily_Arch-trimmed.xlsx",
	}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		file, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b := answer
		if b == nil {
			var err error
			if b, err = os.ReadFile(filepath.Join(recordings, file)); err != nil {
				t.Error(err)
			}
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Write(b)
	})
	return sbp.NewClient(srv.URL+"/assets/document/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording: the current workbook's last column,
// serial 46142 = 30 April 2026, gives U.S. Dollar 278.99107142857144 (an
// average, every digit kept) rupees per ONE dollar and "Japnese Yen"
// 1.7380819999999999, i.e. 1.738082 per ONE yen (the unit line says
// "Pak Rupees per Currency Unit"); the archive's last column, serial 46203
// = 30 June 2026, gives Japanese Yen 1.718256; as_of 17:00 in Karachi
// (UTC+5) is 12:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *sbp.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *sbp.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 23},
		{"history", "history.golden", func(c *sbp.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-06-29"), providertest.Day("2026-06-30"))
		}, 46},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, nil)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			for _, s := range sets {
				if s.Provider != sbp.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "PKR" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInvalidPayload(t *testing.T) {
	const (
		workbook = `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
		rels     = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
	)
	tests := []struct {
		name string
		body []byte
	}{
		{"html error page", []byte("<html><body>404 - File or directory not found.</body></html>")},
		{"empty", nil},
		{"zip without a workbook", zipOf(t, map[string]string{"readme.txt": "hello"})},
		{"sheet without the unit line", zipOf(t, map[string]string{
			"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels,
			"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Country</t></is></c><c r="B1" t="inlineStr"><is><t>Currency</t></is></c><c r="C1"><v>46142</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>USA</t></is></c><c r="B2" t="inlineStr"><is><t>U.S. Dollar</t></is></c><c r="C2"><v>0.0035</v></c></row></sheetData></worksheet>`,
		})},
		{"text where a rate should be", zipOf(t, map[string]string{
			"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels,
			"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Pak Rupees per Currency Unit</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Country</t></is></c><c r="B2" t="inlineStr"><is><t>Currency</t></is></c><c r="C2"><v>46142</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>USA</t></is></c><c r="B3" t="inlineStr"><is><t>U.S. Dollar</t></is></c><c r="C3" t="inlineStr"><is><t>n.a.</t></is></c></row></sheetData></worksheet>`,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, append([]byte{}, tt.body...))
			sets, err := c.Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want an invalid-payload error", err)
			}
			if sets != nil {
				t.Fatalf("sets = %v, want none", sets)
			}
		})
	}
}

// TestHistoryRequests checks that a range costs one request (the archive)
// and a second (the current workbook) only when it ends after the
// archive's last day.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
		requests int32
	}{
		{"one day", "2026-06-24", "2026-06-24", 23, 1},
		{"the archive's last ten days", "2026-06-01", "2026-06-30", 10 * 23, 1},
		{"after the archive", "2026-06-30", "2026-07-31", 23, 2},
		{"a weekend", "2026-06-27", "2026-06-28", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			if got := n.Load(); got != tt.requests {
				t.Fatalf("requests = %d, want %d", got, tt.requests)
			}
		})
	}
}

// TestInvalidTable checks the table's own checks on complete packages:
// excelize finds the workbook through the package's _rels/.rels, so a
// zip without it (as in TestInvalidPayload) is refused before the sheet
// is read; here the sheet is read and refused for what it says.
func TestInvalidTable(t *testing.T) {
	const (
		pkg      = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
		workbook = `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
		rels     = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
		heading  = `<row r="2"><c r="A2" t="inlineStr"><is><t>Country</t></is></c><c r="B2" t="inlineStr"><is><t>Currency</t></is></c><c r="C2"><v>46142</v></c></row>`
		unit     = `<row r="1"><c r="A1" t="inlineStr"><is><t>Pak Rupees per Currency Unit</t></is></c></row>`
	)
	tests := []struct {
		name, rows, want string
	}{
		{"sheet without the unit line", heading + `<row r="3"><c r="A3" t="inlineStr"><is><t>USA</t></is></c><c r="B3" t="inlineStr"><is><t>U.S. Dollar</t></is></c><c r="C3"><v>0.0035</v></c></row>`, "no table"},
		{"text where a rate should be", unit + heading + `<row r="3"><c r="A3" t="inlineStr"><is><t>USA</t></is></c><c r="B3" t="inlineStr"><is><t>U.S. Dollar</t></is></c><c r="C3" t="inlineStr"><is><t>n.a.</t></is></c></row>`, "not a number"},
		{"no known currency", unit + heading + `<row r="3"><c r="A3" t="inlineStr"><is><t>Atlantis</t></is></c><c r="B3" t="inlineStr"><is><t>Atlantean Drachma</t></is></c><c r="C3"><v>2.5</v></c></row>`, "no known currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := zipOf(t, map[string]string{
				"_rels/.rels": pkg, "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels,
				"xl/worksheets/sheet1.xml": `<worksheet><sheetData>` + tt.rows + `</sheetData></worksheet>`,
			})
			sets, err := sbp.Parse(sbp.Name, body)
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an invalid-payload error saying %q", err, tt.want)
			}
			if sets != nil {
				t.Fatalf("sets = %v, want none", sets)
			}
		})
	}
}
