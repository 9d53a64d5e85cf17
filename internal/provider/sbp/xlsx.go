package sbp

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// sheet is the first worksheet of an XLSX workbook as cell text: rows and
// columns are 1-based, a cell holds its shared string, inline string or
// the raw text of its value (numbers as the file writes them, never
// through float64).
type sheet struct {
	cells    map[int]map[int]string
	date1904 bool
}

func (s *sheet) cell(row, col int) string { return strings.TrimSpace(s.cells[row][col]) }

// maxPart bounds one decompressed part: SBP's full archive sheet is about
// 4 MB; the bound stops a compressed bomb.
const maxPart = 64 << 20

// readSheet reads the first worksheet of an XLSX workbook (Office Open
// XML, ECMA-376) with the standard library: the workbook names its sheets
// and their relationships, the shared-string table holds the text cells.
func readSheet(body []byte) (*sheet, error) {
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("not an XLSX (zip) file: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("workbook has no %s", name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxPart+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(b) > maxPart {
			return nil, fmt.Errorf("%s is larger than %d bytes", name, maxPart)
		}
		return b, nil
	}

	wb, err := read("xl/workbook.xml")
	if err != nil {
		return nil, err
	}
	var workbook struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			ID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(wb, &workbook); err != nil {
		return nil, fmt.Errorf("xl/workbook.xml: %w", err)
	}
	if len(workbook.Sheets) == 0 {
		return nil, errors.New("workbook has no sheet")
	}
	rels, err := read("xl/_rels/workbook.xml.rels")
	if err != nil {
		return nil, err
	}
	var relationships struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(rels, &relationships); err != nil {
		return nil, fmt.Errorf("xl/_rels/workbook.xml.rels: %w", err)
	}
	target := ""
	for _, r := range relationships.Rel {
		if r.ID == workbook.Sheets[0].ID {
			target = r.Target
		}
	}
	if target == "" {
		return nil, errors.New("workbook's first sheet has no part")
	}
	if strings.HasPrefix(target, "/") {
		target = strings.TrimPrefix(target, "/")
	} else {
		target = path.Join("xl", target)
	}

	var shared []string
	if _, ok := files["xl/sharedStrings.xml"]; ok {
		b, err := read("xl/sharedStrings.xml")
		if err != nil {
			return nil, err
		}
		if shared, err = sharedStrings(b); err != nil {
			return nil, err
		}
	}
	b, err := read(target)
	if err != nil {
		return nil, err
	}
	s, err := cells(b, shared)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	s.date1904 = workbook.Pr.Date1904 == "1" || workbook.Pr.Date1904 == "true"
	return s, nil
}

// sharedStrings reads the shared-string table: each item's text is the
// concatenation of its text runs.
func sharedStrings(b []byte) ([]string, error) {
	var sst struct {
		Items []struct {
			T    string `xml:"t"`
			Runs []struct {
				T string `xml:"t"`
			} `xml:"r"`
		} `xml:"si"`
	}
	if err := xml.Unmarshal(b, &sst); err != nil {
		return nil, fmt.Errorf("xl/sharedStrings.xml: %w", err)
	}
	out := make([]string, len(sst.Items))
	for i, it := range sst.Items {
		var t strings.Builder
		t.WriteString(it.T)
		for _, r := range it.Runs {
			t.WriteString(r.T)
		}
		out[i] = t.String()
	}
	return out, nil
}

// cells reads a worksheet's cells, streaming (the archive sheet is large).
func cells(b []byte, shared []string) (*sheet, error) {
	type cell struct {
		Ref    string `xml:"r,attr"`
		Type   string `xml:"t,attr"`
		Value  string `xml:"v"`
		Inline struct {
			T string `xml:"t"`
		} `xml:"is"`
	}
	s := &sheet{cells: map[int]map[int]string{}}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "c" {
			continue
		}
		var c cell
		if err := dec.DecodeElement(&c, &start); err != nil {
			return nil, err
		}
		row, col, err := ref(c.Ref)
		if err != nil {
			return nil, err
		}
		v := c.Value
		switch c.Type {
		case "s":
			i, err := strconv.Atoi(strings.TrimSpace(c.Value))
			if err != nil || i < 0 || i >= len(shared) {
				return nil, fmt.Errorf("cell %s: shared string %q out of range", c.Ref, c.Value)
			}
			v = shared[i]
		case "inlineStr":
			v = c.Inline.T
		}
		if s.cells[row] == nil {
			s.cells[row] = map[int]string{}
		}
		s.cells[row][col] = v
	}
}

// ref splits a cell reference such as "DRT7" into row 7 and column 3192.
func ref(r string) (row, col int, err error) {
	i := 0
	for i < len(r) && r[i] >= 'A' && r[i] <= 'Z' {
		col = col*26 + int(r[i]-'A'+1)
		i++
	}
	row, err = strconv.Atoi(r[i:])
	if i == 0 || err != nil || row < 1 || col > 16384 {
		return 0, 0, fmt.Errorf("bad cell reference %q", r)
	}
	return row, col, nil
}
