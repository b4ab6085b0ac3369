package join

import (
	"bytes"
	"encoding/json"
	"testing"
)

// mergeWithEncodingJSON is the join rule written with encoding/json maps:
// slower, and the reference Merge is checked against.
func mergeWithEncodingJSON(frags []Fragment) ([]byte, bool) {
	top := map[string]json.RawMessage{}
	var content map[string]json.RawMessage
	for _, f := range frags {
		var obj map[string]json.RawMessage
		if json.Unmarshal(f.Value, &obj) != nil || obj == nil {
			return nil, false
		}
		for k, v := range obj {
			if k != contentKey {
				top[k] = v
				continue
			}
			var inner map[string]json.RawMessage
			if t := bytes.TrimLeft(v, " \t\r\n"); len(t) == 0 || t[0] != '{' || json.Unmarshal(v, &inner) != nil {
				top[k], content = v, nil
				continue
			}
			if content == nil {
				content = map[string]json.RawMessage{}
			}
			for ck, cv := range inner {
				content[ck] = cv
			}
			top[k] = nil
		}
	}
	enc := func(m map[string]json.RawMessage) []byte {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		_ = e.Encode(m)
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if content != nil {
		top[contentKey] = enc(content)
	}
	return enc(top), true
}

// FuzzMergeMatchesEncodingJSON: Merge gives byte for byte what the
// encoding/json version of the rule gives, and fails where it fails.
func FuzzMergeMatchesEncodingJSON(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"id":"1","content":{"text":"a"}}`, `{"id":"1","content":{"language":"en"}}`},
		{`{ "b" : [ 1 , 2 ] , "a\u2028" : "<>" }`, `{"content":{"k":"\u00e9"},"é":1}`},
		{`{"content":"x","content":{"a":1}}`, `{"z":null,"content":{ "a" : 2 }}`},
		{`null`, `{}`}, {`{"a":1}`, `[1,2]`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		frags := []Fragment{{ID: "x", Topic: "t1", Value: a}, {ID: "x", Topic: "t2", Value: b}}
		got, err := Merge(frags)
		want, ok := mergeWithEncodingJSON(frags)
		if (err == nil) != ok || !bytes.Equal(got, want) {
			t.Fatalf("Merge(%q, %q) = %q, %v; encoding/json gives %q, %v", a, b, got, err, want, ok)
		}
	})
}
