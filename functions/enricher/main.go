// Command enricher is the Tributary function at the end of the demo
// pipeline: it receives, joined by id, a document's two branches — the
// language-detector's (content.language) and the summarizer's
// (content.summary) — checks that both arrived, and publishes the enriched
// document: the text with its language, its summary, its word count and a
// reading time.
//
// Settings, from the worker's metadata:
//
//	words_per_minute  reading speed for content.reading_seconds (default 200)
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

func main() { fn.Run("enricher", process) }

func process(_ context.Context, msg fn.Message, meta fn.Metadata) (fn.Message, error) {
	wpm, dropText, err := settings(meta)
	if err != nil {
		return nil, err
	}
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
	return msg, nil
}

// ratio is the summary's share of the text's length, rounded to 3 digits;
// 0 for an empty text.
func ratio(summary, text int) float64 {
	if text == 0 {
		return 0
	}
	return math.Round(float64(summary)/float64(text)*1000) / 1000
}

// settings reads words_per_minute (an integer from 1 to 10000) and
// drop_text (a boolean); anything else rejects the message naming the
// setting, so a misconfigured worker shows in its dead-letter topic.
func settings(meta fn.Metadata) (int, bool, error) {
	wpm := DefaultWordsPerMinute
	if v, ok := meta["words_per_minute"]; ok && v != nil {
		n, err := fmt.Sscan(fmt.Sprint(v), &wpm)
		if err != nil || n != 1 || wpm < 1 || wpm > 10000 || fmt.Sprint(wpm) != fmt.Sprint(v) {
			return 0, false, fn.Rejectf("metadata.words_per_minute: %v is not an integer from 1 to 10000", v)
		}
	}
	drop := false
	if v, ok := meta["drop_text"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return 0, false, fn.Rejectf("metadata.drop_text: %v is not true or false", v)
		}
		drop = b
	}
	return wpm, drop, nil
}
