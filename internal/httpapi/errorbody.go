package httpapi

import "unicode/utf8"

// appendErrorBody appends the error contract's body for ae, byte for byte
// what encoding/json writes for errorBody, without reflection: an error
// is answered at the cost of a success (issue 29). TestErrorBodyEncoding
// holds it to encoding/json's output.
func appendErrorBody(dst []byte, ae *apiError) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = appendJSONString(dst, ae.Code)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, ae.Message)
	if ae.Field != "" {
		dst = append(dst, `,"field":`...)
		dst = appendJSONString(dst, ae.Field)
	}
	return append(dst, "}}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json encodes a string (HTML
// escaping on, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
