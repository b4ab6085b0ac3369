package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// joinID returns the join key of a message value: the top-level field key,
// a non-empty string or an integer (returned in decimal); of several fields
// with that name, the last. Anything else is an *InputError saying why.
//
// This runs on every consumed message before Redis, so it decodes nothing
// but the key: json.Valid checks the whole value without allocating, then a
// scan over the top level skips every other value as raw bytes.
func joinID(value []byte, key string, maxBytes int) (string, error) {
	if len(value) > maxBytes {
		return "", &InputError{ClassTooLarge, fmt.Errorf("message is %d bytes, the limit is %d", len(value), maxBytes)}
	}
	if !json.Valid(value) {
		return "", &InputError{ClassNotJSON, whyInvalid(value)}
	}
	i := skipSpace(value, 0)
	if value[i] != '{' {
		return "", &InputError{ClassNotJSON, errors.New("message is not a JSON object")}
	}
	var raw []byte
	found := false
	for i = skipSpace(value, i+1); value[i] != '}'; {
		end := skipValue(value, i) // the field name, a string
		name := value[i:end]
		i = skipSpace(value, skipSpace(value, end)+1) // past ':'
		end = skipValue(value, i)
		if fieldIs(name, key) {
			raw, found = value[i:end], true
		}
		i = skipSpace(value, end)
		if value[i] == ',' {
			i = skipSpace(value, i+1)
		}
	}
	if !found {
		return "", &InputError{ClassMissingKey, fmt.Errorf("no field %q to join on", key)}
	}
	id, err := keyString(raw)
	if err != nil {
		return "", &InputError{ClassBadKey, fmt.Errorf("field %q: %w", key, err)}
	}
	return id, nil
}

// whyInvalid says what is wrong with a value json.Valid refused.
func whyInvalid(value []byte) error {
	dec := json.NewDecoder(bytes.NewReader(value))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		if i := skipSpace(value, 0); i < len(value) && value[i] == '{' {
			return fmt.Errorf("message is not valid JSON: %w", err)
		}
		return errors.New("message is not a JSON object")
	}
	return errors.New("trailing data after the JSON object")
}

// fieldIs reports whether the JSON string name (with its quotes) is key.
func fieldIs(name []byte, key string) bool {
	if len(name) == len(key)+2 && string(name[1:len(name)-1]) == key {
		return true
	}
	for _, c := range name {
		if c == '\\' { // escaped: decode to compare
			var s string
			return json.Unmarshal(name, &s) == nil && s == key
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
// JSON, so strings end at their first unescaped quote and containers at
// their balancing bracket.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
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
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 { // the end of the enclosing object: a scalar ended here
				return i
			}
		case ',', ' ', '\t', '\r', '\n', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// keyString accepts a non-empty string (at most 512 bytes) or an integer.
func keyString(raw []byte) (string, error) {
	switch {
	case len(raw) > 0 && raw[0] == '"':
		s := string(raw[1 : len(raw)-1])
		if bytes.IndexByte(raw, '\\') >= 0 || !utf8.ValidString(s) {
			if err := json.Unmarshal(raw, &s); err != nil { // escapes, or bytes to replace
				return "", err
			}
		}
		if s == "" {
			return "", errors.New("is an empty string")
		}
		if len(s) > 512 {
			return "", errors.New("is longer than 512 bytes")
		}
		return s, nil
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return "", fmt.Errorf("is the number %s, not an integer", raw)
		}
		return strconv.FormatInt(n, 10), nil
	}
	return "", fmt.Errorf("must be a string or an integer, not %s", kind(raw))
}

func kind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "this value"
}
