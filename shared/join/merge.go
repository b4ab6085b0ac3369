package join

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tributary-etl/tributary/shared/jsonobj"
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
// whitespace, as encoding/json writes it. Merge is a pure function, safe for
// concurrent use.
//
// It runs once per join, so it never decodes a value: each fragment is
// checked by json.Valid and walked by jsonobj, and the output is assembled
// from the raw values.
func Merge(frags []Fragment) ([]byte, error) {
	top := map[string][]byte{}
	var content map[string][]byte // non-nil while top's content is an object
	size := 2
	for i, f := range frags {
		if !json.Valid(f.Value) {
			var v json.RawMessage
			err := json.Unmarshal(f.Value, &v) // for the syntax error's words
			return nil, fmt.Errorf("join: merge fragment %d (id %q, topic %q): %w", i, f.ID, f.Topic, err)
		}
		size += len(f.Value)
		isObj := jsonobj.Fields(f.Value, func(name, v []byte) bool {
			k := jsonobj.Name(name)
			if k != contentKey {
				top[k] = v
				return true
			}
			if !jsonobj.IsObject(v) {
				top[k], content = v, nil
				return true
			}
			if content == nil {
				content = map[string][]byte{}
			}
			jsonobj.Fields(v, func(cn, cv []byte) bool {
				content[jsonobj.Name(cn)] = cv
				return true
			})
			top[k] = nil // written from content below
			return true
		})
		if !isObj {
			return nil, fmt.Errorf("%w: fragment %d (id %q, topic %q) is %.20s", ErrNotObject, i, f.ID, f.Topic, f.Value)
		}
	}
	if content != nil {
		top[contentKey] = appendObject(make([]byte, 0, size), content)
	}
	return appendObject(make([]byte, 0, size), top), nil
}

// appendObject writes m as a JSON object with sorted keys, as
// encoding/json does with HTML escaping off.
func appendObject(dst []byte, m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendKey(dst, k)
		dst = append(dst, ':')
		dst = jsonobj.AppendCompact(dst, m[k])
	}
	return append(dst, '}')
}

// appendKey writes k as a JSON string: as is when it needs no escaping.
func appendKey(dst []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := marshalNoHTML(k)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"')
}

// marshalNoHTML encodes a string as encoding/json's Encoder does with
// SetEscapeHTML(false).
func marshalNoHTML(s string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
