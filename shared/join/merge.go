package join

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotObject is wrapped by the error [Merge] returns for a fragment whose
// value is not a JSON object.
var ErrNotObject = errors.New("join: fragment is not a JSON object")

// contentKey is the one top-level key whose object is merged, not replaced.
const contentKey = "content"

// Merge applies the join rule to fragments in order, starting from {}: every
// top-level key overwrites, except "content", whose object is merged key by
// key (later wins); a content that is not an object, on either side,
// replaces the previous one. Values are copied as raw JSON, so numbers keep
// their exact text. The output has its keys sorted and no insignificant
// whitespace. Merge is a pure function, safe for concurrent use.
func Merge(frags []Fragment) ([]byte, error) {
	top := map[string]json.RawMessage{}
	var content map[string]json.RawMessage // non-nil while top's content is an object
	for i, f := range frags {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(f.Value, &obj); err != nil {
			return nil, fmt.Errorf("join: merge fragment %d (id %q, topic %q): %w", i, f.ID, f.Topic, err)
		}
		if obj == nil { // the literal null
			return nil, fmt.Errorf("%w: fragment %d (id %q, topic %q) is null", ErrNotObject, i, f.ID, f.Topic)
		}
		for k, v := range obj {
			if k != contentKey {
				top[k] = v
				continue
			}
			var inner map[string]json.RawMessage
			if !isObject(v) || json.Unmarshal(v, &inner) != nil {
				top[k], content = v, nil
				continue
			}
			if content == nil {
				content = map[string]json.RawMessage{}
			}
			for ck, cv := range inner {
				content[ck] = cv
			}
			top[k] = nil // encoded from content below
		}
	}
	if content != nil {
		raw, err := encode(content)
		if err != nil {
			return nil, err
		}
		top[contentKey] = raw
	}
	return encode(top)
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && v[0] == '{'
}

// encode marshals without HTML escaping, so string values keep their bytes.
func encode(m map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("join: encode merged object: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
