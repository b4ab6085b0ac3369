// Command summarizer is the Tributary function that sets content.summary to
// an extractive summary of content.text: its best sentences, in reading
// order. A message without a string content.text is rejected.
//
// Settings, from the worker's metadata:
//
//	max_sentences  most sentences in a summary (default 3)
//	max_chars      most characters in a summary (default 400)
//
// Each must be an integer from 1 to 2^31-1; any other value rejects every
// message with a reason naming the setting, so a misconfigured worker shows
// up in its dead-letter topic.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/tributary-etl/tributary/functions/internal/reject"
	"github.com/tributary-etl/tributary/shared/fn"
)

// Defaults of the settings.
const (
	defaultMaxSentences = 3
	defaultMaxChars     = 400
)

func main() { fn.Run("summarizer", process) }

// process annotates msg in place with the summary its settings ask for and
// returns it.
func process(_ context.Context, msg fn.Message, meta fn.Metadata) (fn.Message, error) {
	maxSentences, err := setting(meta, "max_sentences", defaultMaxSentences)
	if err != nil {
		return nil, err
	}
	maxChars, err := setting(meta, "max_chars", defaultMaxChars)
	if err != nil {
		return nil, err
	}
	if err := annotate(msg, maxSentences, maxChars); err != nil {
		return nil, err
	}
	return msg, nil
}

// setting returns meta[key] as an integer in [1, 2^31-1], def when it is
// absent or null, or a rejection for field "metadata.<key>". Metadata numbers
// are json.Number (fn decodes with UseNumber), read from the literal: 3.0 and
// 3e0 are refused rather than guessed at.
func setting(meta fn.Metadata, key string, def int) (int, error) {
	v, ok := meta[key]
	if !ok || v == nil {
		return def, nil
	}
	field := "metadata." + key
	num, ok := v.(json.Number)
	if !ok {
		return 0, reject.WrongType(field, v, "an integer")
	}
	n, err := strconv.ParseInt(string(num), 10, 32)
	if err != nil || n < 1 {
		return 0, reject.Field(field, fmt.Sprintf("is %s, want an integer from 1 to %d", num, math.MaxInt32))
	}
	return int(n), nil
}
