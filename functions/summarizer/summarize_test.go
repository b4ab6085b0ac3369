package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/functions/internal/reject"
)

// rivers is scored as follows (content words; river=3, sea, sediment and
// deltas=2, top frequency 3):
//
//	0 Rivers shape the land they cross.                     0.67
//	1 A river carries sediment from the mountains ...       1.34
//	2 Over centuries, that sediment builds deltas ...       1.51
//	3 People have farmed river deltas ...                   1.22
//	4 The weather was pleasant yesterday.                   0.58
const rivers = "Rivers shape the land they cross. A river carries sediment from the mountains to the sea. " +
	"Over centuries, that sediment builds deltas where the river meets the sea. " +
	"People have farmed river deltas for thousands of years. The weather was pleasant yesterday."

func TestSummarize(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		maxSentences int
		maxChars     int
		want         string
	}{
		{
			// Sentence 2 scores best, 1 second; they come back in reading order.
			name: "top two in original order", text: rivers, maxSentences: 2, maxChars: 500,
			want: "A river carries sediment from the mountains to the sea. " +
				"Over centuries, that sediment builds deltas where the river meets the sea.",
		},
		{
			name: "top three", text: rivers, maxSentences: 3, maxChars: 500,
			want: "A river carries sediment from the mountains to the sea. " +
				"Over centuries, that sediment builds deltas where the river meets the sea. " +
				"People have farmed river deltas for thousands of years.",
		},
		{
			// Sentence 2 (75 chars) does not fit; 1 (55) does; 3 would make 111.
			name: "maxChars skips a sentence that does not fit", text: rivers, maxSentences: 2, maxChars: 60,
			want: "A river carries sediment from the mountains to the sea.",
		},
		{
			name: "whole text when the bounds allow", text: "First one. Second one.", maxSentences: 5, maxChars: 100,
			want: "First one. Second one.",
		},
		{
			// No sentence fits: the best is cut at a word, its comma dropped.
			name: "truncated at a word boundary", text: rivers, maxSentences: 1, maxChars: 20,
			want: "Over centuries…",
		},
		{
			name: "first word longer than maxChars", text: "Antidisestablishmentarianism is long.", maxSentences: 1, maxChars: 10,
			want: "",
		},
		{
			name: "white space collapsed", text: "Line one\n  continues here.\tAnd   then two.", maxSentences: 2, maxChars: 100,
			want: "Line one continues here. And then two.",
		},
		{
			name: "abbreviations do not split", text: "Dr. Smith met Mr. Jones at 3.30 today. They talked about the weather.", maxSentences: 1, maxChars: 100,
			want: "Dr. Smith met Mr. Jones at 3.30 today.",
		},
		{
			name: "Cyrillic", maxSentences: 1, maxChars: 200,
			text: "Река несёт песок к морю. Песок у моря образует дельту реки. Погода была хорошей.",
			want: "Песок у моря образует дельту реки.",
		},
		{
			name: "Chinese without spaces", maxSentences: 1, maxChars: 200,
			text: "河流把泥沙带到海里。泥沙在河口形成三角洲。今天天气很好。",
			want: "泥沙在河口形成三角洲。",
		},
		{name: "empty", text: "", maxSentences: 3, maxChars: 100, want: ""},
		{name: "only white space", text: " \n\t ", maxSentences: 3, maxChars: 100, want: ""},
		{name: "only punctuation", text: "... !!! ???", maxSentences: 3, maxChars: 100, want: ""},
		{name: "zero sentences", text: rivers, maxSentences: 0, maxChars: 100, want: ""},
		{name: "zero chars", text: rivers, maxSentences: 3, maxChars: 0, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(tc.text, tc.maxSentences, tc.maxChars)
			if got != tc.want {
				t.Errorf("summarize(%q, %d, %d)\n got %q\nwant %q", tc.text, tc.maxSentences, tc.maxChars, got, tc.want)
			}
			checkSummary(t, tc.text, tc.maxSentences, tc.maxChars, got)
		})
	}
}

func TestSummarizeBounds(t *testing.T) {
	for _, maxSentences := range []int{1, 2, 3, 4, 10} {
		for _, maxChars := range []int{1, 5, 16, 34, 56, 100, 140, 1000} {
			got := summarize(rivers, maxSentences, maxChars)
			checkSummary(t, rivers, maxSentences, maxChars, got)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"Mr. Smith met Dr. Jones at 3.30 p.m. today. They talked.", []string{"Mr. Smith met Dr. Jones at 3.30 p.m. today.", "They talked."}},
		{"J. R. R. Tolkien wrote it. So did I. Then what?", []string{"J. R. R. Tolkien wrote it.", "So did I.", "Then what?"}},
		{`Wow!!! Really?! "Yes." She left.`, []string{"Wow!!!", "Really?!", `"Yes."`, "She left."}},
		{"It costs approx. five euros. See example.com for more.", []string{"It costs approx. five euros.", "See example.com for more."}},
		{"e.g. this works (i.e. fine). Next… and more. Last", []string{"e.g. this works (i.e. fine).", "Next… and more.", "Last"}},
		{"Headline without a stop\n\nBody text here. More.", []string{"Headline without a stop", "Body text here.", "More."}},
		{"A line\nwrapped here. Done.", []string{"A line\nwrapped here.", "Done."}},
		{"Es ist z.B. gut. ¿Qué tal? Très bien.", []string{"Es ist z.B. gut.", "¿Qué tal?", "Très bien."}},
		{"今日は寒い。明日は暖かい。", []string{"今日は寒い。", "明日は暖かい。"}},
		{"Ende. ... Weiter.", []string{"Ende.", "Weiter."}},
		{"", nil},
	}
	for _, tc := range tests {
		if got := splitSentences(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitSentences(%q)\n got %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

func TestAnnotate(t *testing.T) {
	msg := map[string]any{"id": "7", "content": map[string]any{"text": rivers, "language": "en"}}
	if err := annotate(msg, 1, 200); err != nil {
		t.Fatalf("annotate: %v", err)
	}
	content := msg["content"].(map[string]any)
	want := "Over centuries, that sediment builds deltas where the river meets the sea."
	if content["summary"] != want {
		t.Errorf("content.summary = %q, want %q", content["summary"], want)
	}
	if content["language"] != "en" || content["text"] != rivers || msg["id"] != "7" {
		t.Errorf("other fields changed: %v", msg)
	}
}

func TestAnnotateRejects(t *testing.T) {
	tests := []struct {
		name      string
		msg       map[string]any
		wantField string
	}{
		{"no content", map[string]any{"id": "1"}, "content"},
		{"content not an object", map[string]any{"content": []any{"x"}}, "content"},
		{"no text", map[string]any{"content": map[string]any{"title": "x"}}, "content.text"},
		{"text not a string", map[string]any{"content": map[string]any{"text": nil}}, "content.text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := annotate(tc.msg, 3, 300)
			var rej *reject.FieldError
			if !errors.As(err, &rej) {
				t.Fatalf("annotate() error = %v, want a *reject.FieldError", err)
			}
			if rej.Field != tc.wantField {
				t.Errorf("Field = %q, want %q", rej.Field, tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q does not name %q", err, tc.wantField)
			}
		})
	}
}

func FuzzSummarize(f *testing.F) {
	f.Add(rivers, 2, 100)
	f.Add("Dr. Smith met Mr. Jones. They talked!", 1, 10)
	f.Add("今日は寒い。明日は暖かい。", 1, 4)
	f.Add("one two three four five six seven", 1, 12)
	f.Add("\xff\xfe. Broken bytes… \x00 here?", 3, 50)
	f.Add("", 0, 0)
	f.Add("00000000000000000aa… aa 000000", 3, 29) // an input word that ends in "…"
	f.Fuzz(func(t *testing.T, text string, maxSentences, maxChars int) {
		// Keep the bounds in a range where they actually bind.
		maxSentences %= 12
		maxChars %= 2000
		got := summarize(text, maxSentences, maxChars)
		checkSummary(t, text, maxSentences, maxChars, got)
	})
}

// checkSummary asserts the properties every summary has: within both
// bounds, and made of the input's words, in order, the last one possibly cut
// short and followed by an ellipsis.
func checkSummary(t *testing.T, text string, maxSentences, maxChars int, got string) {
	t.Helper()
	if got == "" {
		return
	}
	if n := utf8.RuneCountInString(got); n > maxChars {
		t.Errorf("summary has %d characters, more than %d: %q", n, maxChars, got)
	}
	if n := len(splitSentences(got)); n > maxSentences {
		t.Errorf("summary has %d sentences, more than %d: %q", n, maxSentences, got)
	}
	words := strings.Fields(got)
	rest := text
	for n, w := range words {
		i := strings.Index(rest, w)
		if i < 0 && n == len(words)-1 && strings.HasSuffix(w, ellipsis) {
			w = strings.TrimSuffix(w, ellipsis)
			i = strings.Index(rest, w)
		}
		if i < 0 {
			t.Fatalf("summary word %q is not in the input after the previous one\nsummary %q\ninput   %q", w, got, text)
		}
		rest = rest[i+len(w):]
	}
}

// BenchmarkSummarize measures a news-article-sized text (about 5 KB) and
// guards against quadratic behaviour on long runs of white space and stops.
func BenchmarkSummarize(b *testing.B) {
	inputs := []struct{ name, text string }{
		{"article", strings.Repeat(rivers+"\n\n", 20)},
		{"newlines", strings.Repeat("\n \n", 100_000)},
		{"stops", strings.Repeat("x. ", 100_000)},
		{"one-word", strings.Repeat("x", 300_000) + ". A"},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				summarize(in.text, 3, 300)
			}
		})
	}
}
