package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/shared/jsonobj"
)

// joinID returns the join key of a message value: the top-level field key,
// a non-empty string or an integer (returned in decimal); of several fields
// with that name, the last. Anything else is an *InputError saying why.
//
// This runs on every consumed message before Redis, so it decodes nothing
// but the key: json.Valid checks the whole value without allocating, then
// jsonobj walks the top level, every other value staying raw bytes.
func joinID(value []byte, key string, maxBytes int) (string, error) {
	if len(value) > maxBytes {
		return "", &InputError{ClassTooLarge, fmt.Errorf("message is %d bytes, the limit is %d", len(value), maxBytes)}
	}
	if !json.Valid(value) {
		return "", &InputError{ClassNotJSON, whyInvalid(value)}
	}
	var raw []byte
	found := false
	if !jsonobj.Fields(value, func(name, v []byte) bool {
		if jsonobj.NameIs(name, key) {
			raw, found = v, true
		}
		return true
	}) {
		return "", &InputError{ClassNotJSON, errors.New("message is not a JSON object")}
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
		if bytes.HasPrefix(bytes.TrimLeft(value, " \t\r\n"), []byte("{")) {
			return fmt.Errorf("message is not valid JSON: %w", err)
		}
		return errors.New("message is not a JSON object")
	}
	return errors.New("trailing data after the JSON object")
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
