package sbp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
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

// maxUnzipped bounds the decompressed workbook: SBP's full archive sheet
// is about 4 MB; the bound stops a compressed bomb. Up to it every part
// stays in memory (excelize would spill larger sheets to temporary files).
const maxUnzipped = 64 << 20

// readSheet reads the first worksheet (in the workbook's order) of an
// XLSX workbook with excelize. RawCellValue keeps a number's stored text:
// without it excelize formats numbers through float64 and rounds them to
// 15 significant digits, and SBP's averages carry 17.
func readSheet(body []byte) (*sheet, error) {
	opts := excelize.Options{RawCellValue: true, UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzipped}
	f, err := excelize.OpenReader(bytes.NewReader(body), opts)
	if errors.Is(err, io.EOF) {
		// excelize's answer to a zip whose package names no workbook.
		err = errors.New("no workbook part")
	}
	if err != nil {
		return nil, fmt.Errorf("not an XLSX workbook: %w", err)
	}
	defer f.Close()
	props, err := f.GetWorkbookProps()
	if err != nil {
		return nil, fmt.Errorf("workbook properties: %w", err)
	}
	list := f.GetSheetList()
	if len(list) == 0 {
		return nil, errors.New("workbook has no sheet")
	}
	// The row iterator, not GetRows: GetRows stops silently at a row it
	// cannot read, the iterator reports why.
	rows, err := f.Rows(list[0])
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", list[0], err)
	}
	s := &sheet{cells: map[int]map[int]string{}, date1904: props.Date1904 != nil && *props.Date1904}
	for r := 1; rows.Next(); r++ {
		row, err := rows.Columns(opts)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sheet %q row %d: %w", list[0], r, err)
		}
		for c, v := range row {
			if s.cells[r] == nil {
				s.cells[r] = map[int]string{}
			}
			s.cells[r][c+1] = v
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("sheet %q: %w", list[0], err)
	}
	return s, nil
}
