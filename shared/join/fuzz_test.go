package join

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzMerge: Merge never panics; what it returns is one JSON object; it is
// deterministic; and merging a fragment with itself changes nothing.
func FuzzMerge(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"id":"1","content":{"text":"a"}}`, `{"id":"1","content":{"language":"en"}}`},
		{`{"id":1e400,"content":"x"}`, `{"content":{"a":[1,{"b":null}]}}`},
		{`null`, `{}`},
		{`{"a":1}`, `[1,2]`},
		{`{"content":{"k":"\u00e9"}}`, `{"content":null}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		frags := []Fragment{{ID: "x", Topic: "t1", Value: a}, {ID: "x", Topic: "t2", Value: b}}
		out, err := Merge(frags)
		if err != nil {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(out, &obj); err != nil || obj == nil {
			t.Fatalf("Merge(%q, %q) = %q: not a JSON object (%v)", a, b, out, err)
		}
		again, err := Merge(frags)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Merge is not deterministic: %q then %q (%v)", out, again, err)
		}
		once, err1 := Merge(frags[:1])
		twice, err2 := Merge([]Fragment{frags[0], frags[0]})
		if err1 != nil || err2 != nil || !bytes.Equal(once, twice) {
			t.Fatalf("merging %q with itself: %q vs %q (%v, %v)", a, once, twice, err1, err2)
		}
	})
}
