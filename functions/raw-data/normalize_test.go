package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/functions/internal/reject"
)

var now = time.Date(2026, 11, 24, 9, 30, 15, 123_000_000, time.FixedZone("CET", 3600))

const nowUTC = "2026-11-24T08:30:15Z"

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string // JSON, decoded with UseNumber as the runtime does
		want string // JSON of the expected output
	}{
		{
			name: "string id, text already clean, other fields kept",
			in:   `{"id":"a-1","source":"rss","content":{"text":"Hello world.","title":"T"}}`,
			want: `{"id":"a-1","source":"rss","content":{"text":"Hello world.","title":"T","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "integer id becomes a string",
			in:   `{"id":42,"content":{"text":"x"}}`,
			want: `{"id":"42","content":{"text":"x","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "big integer id keeps every digit",
			in:   `{"id":123456789012345678901234567890,"content":{"text":"x"}}`,
			want: `{"id":"123456789012345678901234567890","content":{"text":"x","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "negative integer id",
			in:   `{"id":-7,"content":{"text":"x"}}`,
			want: `{"id":"-7","content":{"text":"x","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "string id trimmed",
			in:   `{"id":"  a-2 \n","content":{"text":"x"}}`,
			want: `{"id":"a-2","content":{"text":"x","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "white space trimmed and collapsed",
			in:   `{"id":"1","content":{"text":"  Hello,\n\n\t world \u00a0 and\u2003more.\r\n"}}`,
			want: `{"id":"1","content":{"text":"Hello, world and more.","received_at":"` + nowUTC + `"}}`,
		},
		{
			// NEL (U+0085) is a control character and a line break: a space.
			name: "control characters and BOM removed",
			in:   `{"id":"1","content":{"text":"\ufeffHel\u0000lo\u0007 wor\u001bld\u007f!\u0085Bye"}}`,
			want: `{"id":"1","content":{"text":"Hello world! Bye","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "non-Latin text and emoji untouched",
			in:   `{"id":"1","content":{"text":"Привет,  мир 👋🏽 今日は"}}`,
			want: `{"id":"1","content":{"text":"Привет, мир 👋🏽 今日は","received_at":"` + nowUTC + `"}}`,
		},
		{
			name: "producer's received_at overwritten",
			in:   `{"id":"1","content":{"text":"x","received_at":"1999-01-01T00:00:00Z"}}`,
			want: `{"id":"1","content":{"text":"x","received_at":"` + nowUTC + `"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := decode(t, tc.in)
			before := decode(t, tc.in)
			got, err := normalize(in, now)
			if err != nil {
				t.Fatalf("normalize: %v", err)
			}
			if want := decode(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("normalize(%s)\n got %v\nwant %v", tc.in, got, want)
			}
			if !reflect.DeepEqual(in, before) {
				t.Errorf("input modified: %v", in)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantField  string
		wantReason string
	}{
		{"no id", `{"content":{"text":"x"}}`, "id", reject.Missing},
		{"null id", `{"id":null,"content":{"text":"x"}}`, "id", reject.Missing},
		{"empty id", `{"id":"","content":{"text":"x"}}`, "id", reasonEmpty},
		{"blank id", `{"id":"  \t","content":{"text":"x"}}`, "id", reasonEmpty},
		{"fractional id", `{"id":1.5,"content":{"text":"x"}}`, "id", reasonNotInteger},
		{"exponent id", `{"id":1e3,"content":{"text":"x"}}`, "id", reasonNotInteger},
		{"boolean id", `{"id":true,"content":{"text":"x"}}`, "id", "is bool, want a string or an integer"},
		{"object id", `{"id":{"n":1},"content":{"text":"x"}}`, "id", "is map[string]interface {}, want a string or an integer"},
		{"no content", `{"id":"1"}`, "content", reject.Missing},
		{"content not an object", `{"id":"1","content":"hello"}`, "content", "is string, want an object"},
		{"no text", `{"id":"1","content":{"title":"x"}}`, "content.text", reject.Missing},
		{"text not a string", `{"id":"1","content":{"text":5}}`, "content.text", "is json.Number, want a string"},
		{"empty text", `{"id":"1","content":{"text":""}}`, "content.text", reasonNoText},
		{"blank text", `{"id":"1","content":{"text":" \n\t\u00a0 "}}`, "content.text", reasonNoText},
		{"only control characters", `{"id":"1","content":{"text":"\u0000\u0001\ufeff"}}`, "content.text", reasonNoText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := normalize(decode(t, tc.in), now)
			var rej *reject.FieldError
			if !errors.As(err, &rej) {
				t.Fatalf("normalize(%s) = %v, %v; want a *reject.FieldError", tc.in, out, err)
			}
			if rej.Field != tc.wantField || rej.Reason != tc.wantReason {
				t.Errorf("got {Field: %q, Reason: %q}, want {%q, %q}", rej.Field, rej.Reason, tc.wantField, tc.wantReason)
			}
			if !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q does not name %q", err, tc.wantField)
			}
			if out != nil {
				t.Errorf("output = %v, want nil", out)
			}
		})
	}
}

// Records decoded without UseNumber, or built in Go, carry other number types.
func TestNormalizeIDTypes(t *testing.T) {
	tests := []struct {
		id         any
		want       string
		wantReason string
	}{
		{float64(42), "42", ""},
		{float64(-3), "-3", ""},
		{float64(1 << 53), "9007199254740992", ""},
		{float64(1<<53) * 2, "", reasonTooLarge},
		{1.25, "", reasonNotInteger},
		{int(7), "7", ""},
		{int64(-8), "-8", ""},
		{uint64(18446744073709551615), "18446744073709551615", ""},
	}
	for _, tc := range tests {
		msg := map[string]any{"id": tc.id, "content": map[string]any{"text": "x"}}
		out, err := normalize(msg, now)
		if tc.wantReason != "" {
			var rej *reject.FieldError
			if !errors.As(err, &rej) || rej.Reason != tc.wantReason {
				t.Errorf("id %#v: error %v, want reason %q", tc.id, err, tc.wantReason)
			}
			continue
		}
		if err != nil {
			t.Errorf("id %#v: %v", tc.id, err)
			continue
		}
		if out["id"] != tc.want {
			t.Errorf("id %#v: got %#v, want %q", tc.id, out["id"], tc.want)
		}
	}
}

func TestCleanTextInvalidUTF8(t *testing.T) {
	if got, want := cleanText("a\xffb \xc3(c"), "ab (c"; got != want {
		t.Errorf("cleanText = %q, want %q", got, want)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}
