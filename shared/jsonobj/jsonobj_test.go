package jsonobj

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFields: on every valid JSON object, Fields yields exactly the fields
// encoding/json decodes (last duplicate winning), with values that are the
// same JSON; on other valid values it yields nothing.
func FuzzFields(f *testing.F) {
	for _, seed := range []string{`{"id":"a","n":1}`, ` { "a" : [ 1 , { "b" : "}" } ] , "c" : null } `, `{"a\"b":"\\\"","a\u0062":true}`,
		`{}`, `[1,2]`, `"s"`, `12`, `{"x":1e5,"x":2}`, `{"k":"\u00e9","é":{}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if !json.Valid(v) {
			return
		}
		got := map[string]json.RawMessage{}
		isObj := Fields(v, func(name, value []byte) bool {
			if !json.Valid(value) {
				t.Fatalf("Fields(%q) gave value %q: not JSON", v, value)
			}
			got[Name(name)] = value
			return true
		})
		var want map[string]json.RawMessage
		err := json.Unmarshal(v, &want)
		if isObj != (err == nil && want != nil) {
			t.Fatalf("Fields(%q) object = %v, encoding/json: %v %v", v, isObj, want, err)
		}
		if !isObj {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("Fields(%q) = %d fields, encoding/json %d", v, len(got), len(want))
		}
		for k, w := range want {
			var a, b bytes.Buffer
			_ = json.Compact(&a, w)
			_ = json.Compact(&b, got[k])
			if a.String() != b.String() || string(AppendCompact(nil, got[k])) != a.String() {
				t.Fatalf("Fields(%q)[%q] = %q, encoding/json %q", v, k, got[k], w)
			}
			if !NameIs([]byte(mustQuote(k)), k) {
				t.Fatalf("NameIs(%q, %q) = false", mustQuote(k), k)
			}
		}
	})
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
