package join

import (
	"errors"
	"testing"
)

func TestMerge(t *testing.T) {
	frag := func(v string) Fragment { return Fragment{ID: "x", Topic: "t", Value: []byte(v)} }
	cases := []struct {
		name    string
		values  []string
		want    string
		wantErr error // nil with errAny means any error
		errAny  bool
	}{
		{name: "no fragments", values: nil, want: `{}`},
		{name: "single", values: []string{`{"id":"x","a":1}`}, want: `{"a":1,"id":"x"}`},
		{name: "top-level keys overwrite", values: []string{`{"a":1,"b":{"k":1}}`, `{"a":2,"b":{"j":2}}`}, want: `{"a":2,"b":{"j":2}}`},
		{name: "content merged key by key", values: []string{
			`{"content":{"text":"hi","lang":"en"}}`,
			`{"content":{"lang":"fr","score":0.5}}`,
		}, want: `{"content":{"lang":"fr","score":0.5,"text":"hi"}}`},
		{name: "content merge is shallow", values: []string{
			`{"content":{"m":{"a":1}}}`, `{"content":{"m":{"b":2}}}`,
		}, want: `{"content":{"m":{"b":2}}}`},
		{name: "non-object content overwrites object", values: []string{
			`{"content":{"a":1}}`, `{"content":"plain"}`,
		}, want: `{"content":"plain"}`},
		{name: "object content replaces non-object", values: []string{
			`{"content":[1,2]}`, `{"content":{"a":1}}`, `{"content":{"b":2}}`,
		}, want: `{"content":{"a":1,"b":2}}`},
		{name: "null content overwrites", values: []string{`{"content":{"a":1}}`, `{"content":null}`}, want: `{"content":null}`},
		{name: "numbers preserved exactly", values: []string{
			`{"big":12345678901234567890123,"f":1.10,"e":1e400,"content":{"n":9007199254740993}}`,
		}, want: `{"big":12345678901234567890123,"content":{"n":9007199254740993},"e":1e400,"f":1.10}`},
		{name: "strings keep html characters", values: []string{`{"s":"<a&b>"}`}, want: `{"s":"<a&b>"}`},
		{name: "whitespace compacted", values: []string{"{ \"a\" : [ 1 , 2 ] ,\n \"content\" : { \"b\" : true } }"}, want: `{"a":[1,2],"content":{"b":true}}`},
		{name: "invalid json", values: []string{`{"a":1}`, `{"a":`}, errAny: true},
		{name: "array is not an object", values: []string{`[1,2]`}, errAny: true},
		{name: "null is not an object", values: []string{`null`}, wantErr: ErrNotObject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frags := make([]Fragment, len(tc.values))
			for i, v := range tc.values {
				frags[i] = frag(v)
			}
			got, err := Merge(frags)
			if tc.errAny || tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Merge = %s, want error", got)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("Merge error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("Merge = %s, want %s", got, tc.want)
			}
		})
	}
}
