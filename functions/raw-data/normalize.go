package main

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/functions/internal/reject"
)

// Reasons a record is rejected; tests and dashboards match on them.
const (
	reasonEmpty      = "empty"
	reasonNotInteger = "number is not an integer"
	reasonTooLarge   = "integer beyond 2^53 cannot be exact in a float64; decode with UseNumber"
	reasonNoText     = "empty after removing white space and control characters"
)

// maxExactFloat is the largest integer every smaller one of which a float64
// holds exactly.
const maxExactFloat = 1 << 53

// normalize returns a copy of msg, a raw record, with
//   - id as a string: a non-empty string (trimmed) or an integer number
//     (json.Number, a float64 holding an exact integer, or a Go integer);
//   - content.text with control characters and invalid UTF-8 removed, every
//     run of white space (Unicode's definition) made one space, and trimmed;
//   - content.received_at set to now in UTC, RFC 3339 (overwriting any value
//     the producer sent: it is when we received it);
//   - every other field, at either level, as it was.
//
// msg and its content map are not modified. A record that breaks one of these
// rules gets a rejection (see package reject) naming the first bad field.
func normalize(msg map[string]any, now time.Time) (map[string]any, error) {
	id, err := normalizeID(msg["id"])
	if err != nil {
		return nil, err
	}
	content, ok := msg["content"].(map[string]any)
	if !ok {
		return nil, reject.WrongType("content", msg["content"], "an object")
	}
	raw, ok := content["text"].(string)
	if !ok {
		return nil, reject.WrongType("content.text", content["text"], "a string")
	}
	text := cleanText(raw)
	if text == "" {
		return nil, reject.Field("content.text", reasonNoText)
	}

	outContent := make(map[string]any, len(content)+1)
	for k, v := range content {
		outContent[k] = v
	}
	outContent["text"] = text
	outContent["received_at"] = now.UTC().Format(time.RFC3339)

	out := make(map[string]any, len(msg))
	for k, v := range msg {
		out[k] = v
	}
	out["id"] = id
	out["content"] = outContent
	return out, nil
}

// normalizeID returns v as a string id, or a rejection of field "id".
func normalizeID(v any) (string, error) {
	bad := func(reason string) error { return reject.Field("id", reason) }
	switch id := v.(type) {
	case string:
		if s := strings.TrimSpace(id); s != "" {
			return s, nil
		}
		return "", bad(reasonEmpty)
	case json.Number:
		// Integer literals only: "1.0" and "1e3" are refused rather than
		// guessed at, and big integers keep every digit.
		if isIntegerLiteral(string(id)) {
			return string(id), nil
		}
		return "", bad(reasonNotInteger)
	case float64:
		if id != math.Trunc(id) || math.IsInf(id, 0) {
			return "", bad(reasonNotInteger)
		}
		if math.Abs(id) > maxExactFloat {
			return "", bad(reasonTooLarge)
		}
		return strconv.FormatInt(int64(id), 10), nil
	case int:
		return strconv.Itoa(id), nil
	case int64:
		return strconv.FormatInt(id, 10), nil
	case int32:
		return strconv.FormatInt(int64(id), 10), nil
	case uint64:
		return strconv.FormatUint(id, 10), nil
	case uint32:
		return strconv.FormatUint(uint64(id), 10), nil
	default:
		return "", reject.WrongType("id", v, "a string or an integer")
	}
}

// isIntegerLiteral reports whether s is an optional minus followed by digits.
func isIntegerLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanText drops control characters, byte-order marks and invalid UTF-8,
// turns each run of white space into one space, and trims both ends.
func cleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// Invalid byte: drop it.
		case unicode.IsSpace(r):
			pendingSpace = b.Len() > 0
		case unicode.IsControl(r), r == '\uFEFF':
			// Dropped without a space: a NUL inside a word is noise, not a
			// word break.
		default:
			if pendingSpace {
				b.WriteByte(' ')
				pendingSpace = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
