package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// joinID returns the join key of a message value: the top-level field key,
// a non-empty string or an integer (returned in decimal). Anything else is an
// *InputError saying why. Only the top level is decoded; nested values are
// skipped, not parsed into maps.
func joinID(value []byte, key string, maxBytes int) (string, error) {
	if len(value) > maxBytes {
		return "", &InputError{ClassTooLarge, fmt.Errorf("message is %d bytes, the limit is %d", len(value), maxBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return "", &InputError{ClassNotJSON, errors.New("message is not a JSON object")}
	}
	var id string
	found := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", &InputError{ClassNotJSON, fmt.Errorf("message is not valid JSON: %w", err)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", &InputError{ClassNotJSON, fmt.Errorf("message is not valid JSON: %w", err)}
		}
		if kt.(string) != key {
			continue
		}
		found = true
		id, err = keyString(raw)
		if err != nil {
			return "", &InputError{ClassBadKey, fmt.Errorf("field %q: %w", key, err)}
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", &InputError{ClassNotJSON, fmt.Errorf("message is not valid JSON: %w", err)}
	}
	if _, err := dec.Token(); err != io.EOF { // More() misses a stray '}' or ']'
		return "", &InputError{ClassNotJSON, errors.New("trailing data after the JSON object")}
	}
	if !found {
		return "", &InputError{ClassMissingKey, fmt.Errorf("no field %q to join on", key)}
	}
	return id, nil
}

// keyString accepts a non-empty string (at most 512 bytes) or an integer.
func keyString(raw json.RawMessage) (string, error) {
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
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

func kind(raw json.RawMessage) string {
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
