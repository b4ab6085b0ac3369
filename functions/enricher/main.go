// Command enricher is the Tributary function at the end of the demo
// pipeline: it receives, joined by id, a document's two branches — the
// language-detector's (content.language) and the summarizer's
// (content.summary) — checks that both arrived, and publishes the enriched
// document: the text with its language, its summary, its word count and a
// reading time.
//
// Settings, from the worker's metadata, checked at start (a worker with a
// bad one exits 2 naming it):
//
//	words_per_minute  reading speed for content.reading_seconds, 1 to 10000 (default 200)
//	drop_text         true to leave content.text out of the output (default false)
//
// A joined message missing either branch's field is rejected with a reason
// naming it: the worker's inputs are then not the two branches it expects.
package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tributary-etl/tributary/shared/fn"
)

// DefaultWordsPerMinute is the reading speed used without a setting.
const DefaultWordsPerMinute = 200

// maxWordsPerMinute bounds words_per_minute.
const maxWordsPerMinute = 10000

// settings is the worker's metadata.
type settings struct {
	WordsPerMinute int  `json:"words_per_minute" jsonschema:"minimum=1,maximum=10000,description=reading speed for content.reading_seconds"`
	DropText       bool `json:"drop_text" jsonschema:"description=leave content.text out of the output"`
}

// Validate refuses what the schema's bounds refuse, for a worker started
// without the API server's check.
func (s *settings) Validate() error {
	if s.WordsPerMinute < 1 || s.WordsPerMinute > maxWordsPerMinute {
		return fn.Invalid("words_per_minute", fmt.Sprintf("%d is not an integer from 1 to %d", s.WordsPerMinute, maxWordsPerMinute))
	}
	return nil
}

// defaults is the metadata of a worker that sets none.
var defaults = settings{WordsPerMinute: DefaultWordsPerMinute}

func main() { fn.RunTyped("enricher", defaults, process) }

func process(_ context.Context, msg fn.Message, in fn.In[settings]) ([]fn.Out, error) {
	wpm, dropText := in.Meta.WordsPerMinute, in.Meta.DropText
	content, ok := msg["content"].(map[string]any)
	if !ok {
		return nil, fn.Reject(errors.New("content: missing or not an object"))
	}
	lang, ok := content["language"].(string)
	if !ok {
		return nil, fn.Reject(errors.New("content.language: missing — is the language-detector's topic an input of this worker?"))
	}
	summary, ok := content["summary"].(string)
	if !ok {
		return nil, fn.Reject(errors.New("content.summary: missing — is the summarizer's topic an input of this worker?"))
	}
	text, _ := content["text"].(string)
	words := len(strings.Fields(text))
	content["word_count"] = words
	content["reading_seconds"] = int(math.Ceil(float64(words) * 60 / float64(wpm)))
	content["summary_ratio"] = ratio(len(summary), len(text))
	content["language"] = lang
	content["enriched"] = true
	if dropText {
		delete(content, "text")
	}
	return fn.Emit(msg), nil
}

// ratio is the summary's share of the text's length, rounded to 3 digits;
// 0 for an empty text.
func ratio(summary, text int) float64 {
	if text == 0 {
		return 0
	}
	return math.Round(float64(summary)/float64(text)*1000) / 1000
}
