package bsp

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file reads the text of the bulletin, a one-page PDF, as rows: CES
// needs only the words and numbers of the table and where each sits on the
// page, not a general PDF reader. It finds the page's content streams
// through the page's /Contents entry, inflates them (FlateDecode) and
// follows the text operators, placing each shown string at the x and y of
// the text matrix; strings on the same baseline form a row, sorted by x.
// A bulletin whose page dictionary is not in plain text, whose streams use
// another filter, or whose fonts do not show Latin-1 text yields no rows,
// and so an invalid payload, never a wrong rate.

// rowTolerance is how far apart, in points, two baselines may be and
// still be one row.
const rowTolerance = 2

// maxInflated bounds one inflated content stream.
const maxInflated = 8 << 20

var (
	contentsRe = regexp.MustCompile(`/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)`)
	refRe      = regexp.MustCompile(`(\d+)\s+(\d+)\s+R`)
	lengthRe   = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)
)

// cell is one shown string and where it starts.
type cell struct {
	x, y float64
	text string
}

// pageRows returns the text of the PDF's first page as rows of cells,
// top to bottom, each row's cells left to right.
func pageRows(pdf []byte) ([][]string, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("not a PDF")
	}
	if tail := pdf[max(0, len(pdf)-1024):]; !bytes.Contains(tail, []byte("%%EOF")) {
		return nil, fmt.Errorf("the PDF is cut short (no %%%%EOF at its end)")
	}
	m := contentsRe.FindSubmatch(pdf)
	if m == nil {
		return nil, fmt.Errorf("no page /Contents found")
	}
	// The page's streams are one content stream cut at arbitrary points
	// (a text object may span two), so they are joined before reading.
	var content []byte
	for _, ref := range refRe.FindAllSubmatch(m[1], -1) {
		stream, err := objectStream(pdf, string(ref[1]), string(ref[2]))
		if err != nil {
			return nil, err
		}
		if len(content)+len(stream) > maxInflated {
			return nil, fmt.Errorf("the page's content inflates beyond %d bytes", maxInflated)
		}
		content = append(append(content, stream...), '\n')
	}
	cells, err := showText(content)
	if err != nil {
		return nil, err
	}
	// Cells of one row share a baseline up to rounding; rows of the
	// table are about 13 points apart.
	sort.SliceStable(cells, func(i, j int) bool { return cells[i].y > cells[j].y })
	var rows [][]string
	for i := 0; i < len(cells); {
		j := i + 1
		for j < len(cells) && cells[i].y-cells[j].y < rowTolerance {
			j++
		}
		row := append([]cell(nil), cells[i:j]...)
		sort.SliceStable(row, func(a, b int) bool { return row[a].x < row[b].x })
		var texts []string
		for _, c := range row {
			if t := strings.TrimSpace(c.text); t != "" {
				texts = append(texts, t)
			}
		}
		if len(texts) > 0 {
			rows = append(rows, texts)
		}
		i = j
	}
	return rows, nil
}

// objectStream returns the inflated stream of object num gen.
func objectStream(pdf []byte, num, gen string) ([]byte, error) {
	head := regexp.MustCompile(`(^|[\r\n\s])` + num + `\s+` + gen + `\s+obj\s*<<`)
	loc := head.FindIndex(pdf)
	if loc == nil {
		return nil, fmt.Errorf("content object %s %s not found", num, gen)
	}
	rest := pdf[loc[1]:]
	dictEnd := bytes.Index(rest, []byte(">>"))
	streamAt := bytes.Index(rest, []byte("stream"))
	if dictEnd < 0 || streamAt < 0 || streamAt < dictEnd {
		return nil, fmt.Errorf("content object %s %s has no stream", num, gen)
	}
	dict := rest[:dictEnd]
	if !bytes.Contains(dict, []byte("/FlateDecode")) || bytes.Contains(dict, []byte("/DecodeParms")) {
		return nil, fmt.Errorf("content object %s %s is not plainly FlateDecode", num, gen)
	}
	data := rest[streamAt+len("stream"):]
	data = bytes.TrimPrefix(data, []byte("\r"))
	data = bytes.TrimPrefix(data, []byte("\n"))
	if l := lengthRe.FindSubmatch(dict); l != nil && len(l[2]) == 0 {
		if n, err := strconv.Atoi(string(l[1])); err == nil && n <= len(data) {
			data = data[:n]
		}
	} else if end := bytes.Index(data, []byte("endstream")); end >= 0 {
		data = data[:end]
	}
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("content object %s %s: %v", num, gen, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxInflated+1))
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("content object %s %s: %v", num, gen, err)
	}
	if len(out) > maxInflated {
		return nil, fmt.Errorf("content object %s %s inflates beyond %d bytes", num, gen, maxInflated)
	}
	return out, nil
}

// showText follows a content stream's text operators and returns every
// string it shows, placed by the text matrix. Kerning in a TJ array wider
// than a fifth of an em is read as a space between words.
func showText(stream []byte) ([]cell, error) {
	var cells []cell
	var operands []token
	var tm, lm [6]float64
	identity := [6]float64{1, 0, 0, 1, 0, 0}
	tm, lm = identity, identity
	leading := 0.0
	translate := func(tx, ty float64) {
		lm[4] += tx*lm[0] + ty*lm[2]
		lm[5] += tx*lm[1] + ty*lm[3]
		tm = lm
	}
	nums := func(n int) ([]float64, bool) {
		if len(operands) < n {
			return nil, false
		}
		out := make([]float64, n)
		for i, t := range operands[len(operands)-n:] {
			if t.kind != number {
				return nil, false
			}
			out[i] = t.num
		}
		return out, true
	}
	show := func(s string) {
		cells = append(cells, cell{x: tm[4], y: tm[5], text: s})
	}
	lx := lexer{src: stream}
	for {
		t, ok, err := lx.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return cells, nil
		}
		if t.kind != operator {
			operands = append(operands, t)
			continue
		}
		switch t.text {
		case "BT":
			tm, lm = identity, identity
		case "Tm":
			if v, ok := nums(6); ok {
				copy(lm[:], v)
				tm = lm
			}
		case "Td":
			if v, ok := nums(2); ok {
				translate(v[0], v[1])
			}
		case "TD":
			if v, ok := nums(2); ok {
				leading = -v[1]
				translate(v[0], v[1])
			}
		case "TL":
			if v, ok := nums(1); ok {
				leading = v[0]
			}
		case "T*":
			translate(0, -leading)
		case "Tj", "'", "\"":
			if t.text != "Tj" {
				translate(0, -leading)
			}
			if n := len(operands); n > 0 && operands[n-1].kind == str {
				show(operands[n-1].text)
			}
		case "TJ":
			var b strings.Builder
			for _, o := range arrayOperand(operands) {
				switch {
				case o.kind == str:
					b.WriteString(o.text)
				case o.kind == number && o.num < -200:
					b.WriteByte(' ')
				}
			}
			show(b.String())
		}
		operands = operands[:0]
	}
}

// arrayOperand returns the elements of the last array among operands.
func arrayOperand(operands []token) []token {
	end := -1
	for i := len(operands) - 1; i >= 0; i-- {
		if operands[i].kind == closeArray && end < 0 {
			end = i
		}
		if operands[i].kind == openArray {
			if end < 0 {
				end = len(operands)
			}
			return operands[i+1 : end]
		}
	}
	return nil
}

type tokenKind int

const (
	operator tokenKind = iota
	number
	str
	name
	openArray
	closeArray
	other
)

type token struct {
	kind tokenKind
	text string
	num  float64
}

// lexer splits a content stream into tokens.
type lexer struct {
	src []byte
	pos int
}

func isSpace(c byte) bool { return strings.IndexByte(" \t\r\n\f\x00", c) >= 0 }

func isDelim(c byte) bool { return strings.IndexByte("()<>[]{}/%", c) >= 0 }

func (l *lexer) next() (token, bool, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		case c == '(':
			s, err := l.literal()
			return token{kind: str, text: s}, true, err
		case c == '<' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '<',
			c == '>' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '>':
			l.pos += 2
			return token{kind: other}, true, nil
		case c == '<':
			end := bytes.IndexByte(l.src[l.pos:], '>')
			if end < 0 {
				return token{}, false, fmt.Errorf("unterminated hex string")
			}
			hex := strings.Map(func(r rune) rune {
				if isSpace(byte(r)) {
					return -1
				}
				return r
			}, string(l.src[l.pos+1:l.pos+end]))
			l.pos += end + 1
			if len(hex)%2 == 1 {
				hex += "0"
			}
			var b strings.Builder
			for i := 0; i+1 < len(hex); i += 2 {
				v, err := strconv.ParseUint(hex[i:i+2], 16, 8)
				if err != nil {
					return token{}, false, fmt.Errorf("bad hex string")
				}
				b.WriteRune(rune(v))
			}
			return token{kind: str, text: b.String()}, true, nil
		case c == '[':
			l.pos++
			return token{kind: openArray}, true, nil
		case c == ']':
			l.pos++
			return token{kind: closeArray}, true, nil
		case c == '{' || c == '}' || c == '>' || c == ')':
			l.pos++
			return token{kind: other}, true, nil
		default:
			start := l.pos
			if c == '/' {
				l.pos++
			}
			for l.pos < len(l.src) && !isSpace(l.src[l.pos]) && !isDelim(l.src[l.pos]) {
				l.pos++
			}
			word := string(l.src[start:l.pos])
			if c == '/' {
				return token{kind: name, text: word}, true, nil
			}
			if n, err := strconv.ParseFloat(word, 64); err == nil {
				// Positions only: no rate is ever read from here.
				return token{kind: number, num: n, text: word}, true, nil
			}
			return token{kind: operator, text: word}, true, nil
		}
	}
	return token{}, false, nil
}

// literal reads a (string) with its escapes, balanced parentheses
// included; bytes are Latin-1.
func (l *lexer) literal() (string, error) {
	l.pos++ // (
	depth := 1
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		switch c {
		case '\\':
			if l.pos >= len(l.src) {
				return "", fmt.Errorf("unterminated string")
			}
			e := l.src[l.pos]
			l.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b', 'f':
			case '\r', '\n':
				if e == '\r' && l.pos < len(l.src) && l.src[l.pos] == '\n' {
					l.pos++
				}
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; i++ {
						v = v*8 + int(l.src[l.pos]-'0')
						l.pos++
					}
					b.WriteRune(rune(v & 0xff))
				} else {
					b.WriteRune(rune(e))
				}
			}
		case '(':
			depth++
			b.WriteByte(c)
		case ')':
			depth--
			if depth == 0 {
				return b.String(), nil
			}
			b.WriteByte(c)
		default:
			b.WriteRune(rune(c))
		}
	}
	return "", fmt.Errorf("unterminated string")
}
