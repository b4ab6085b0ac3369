// Package jsonobj walks the top level of a JSON object without decoding it.
// The worker runtime reads one field of every message it consumes and
// merges fragments key by key; both only need the raw bytes of top-level
// values, which encoding/json would decode through reflection first.
//
// Every function here requires valid JSON: check with json.Valid, which
// does not allocate, before calling them.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Fields calls fn with each top-level field of obj, in order: name is the
// raw JSON string with its quotes (see [Name]), value the raw value without
// surrounding whitespace. fn returning false stops the walk. Fields reports
// whether obj is an object; for any other valid JSON value it calls nothing.
func Fields(obj []byte, fn func(name, value []byte) bool) bool {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' {
		return false
	}
	for i = skipSpace(obj, i+1); i < len(obj) && obj[i] != '}'; {
		end := skipValue(obj, i)
		name := obj[i:end]
		i = skipSpace(obj, skipSpace(obj, end)+1) // past ':'
		end = skipValue(obj, i)
		if !fn(name, obj[i:end]) {
			return true
		}
		if i = skipSpace(obj, end); i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return true
}

// IsObject reports whether the valid JSON value v is an object.
func IsObject(v []byte) bool {
	i := skipSpace(v, 0)
	return i < len(v) && v[i] == '{'
}

// Name decodes the raw JSON string name as encoding/json does (escapes
// resolved, invalid UTF-8 replaced).
func Name(name []byte) string {
	inner := name[1 : len(name)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(name, &s) // valid by the package's contract
	return s
}

// NameIs reports whether the raw JSON string name decodes to key.
func NameIs(name []byte, key string) bool {
	if len(name) == len(key)+2 && string(name[1:len(name)-1]) == key {
		return true
	}
	return bytes.IndexByte(name, '\\') >= 0 && Name(name) == key
}

// AppendCompact appends v without insignificant whitespace, as json.Compact
// does, copying it at once when it has none (the common case).
func AppendCompact(dst, v []byte) []byte {
	if !hasSpace(v) {
		return append(dst, v...)
	}
	buf := bytes.NewBuffer(dst)
	_ = json.Compact(buf, v) // valid by the package's contract
	return buf.Bytes()
}

// hasSpace reports whether v has whitespace outside its strings.
func hasSpace(v []byte) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '\r', '\n':
			return true
		case '"':
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]. b is valid
// JSON, so a string ends at its first unescaped quote and a container at its
// balancing bracket; a scalar ends where a delimiter starts.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the enclosing container: a scalar ended here
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\r', '\n', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
