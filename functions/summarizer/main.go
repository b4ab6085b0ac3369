// Command summarizer is the Tributary function that sets content.summary to
// an extractive summary of content.text: its best sentences, in reading
// order. A message without a string content.text is rejected.
//
// Settings, from the worker's metadata, checked at start (a worker with a
// bad one exits 2 naming it):
//
//	max_sentences  most sentences in a summary (default 3)
//	max_chars      most characters in a summary (default 400)
//
// Each must be an integer from 1 to 2^31-1.
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/tributary-etl/tributary/shared/fn"
)

// Defaults of the settings.
const (
	defaultMaxSentences = 3
	defaultMaxChars     = 400
)

// settings is the worker's metadata.
type settings struct {
	MaxSentences int `json:"max_sentences" jsonschema:"minimum=1,maximum=2147483647,description=most sentences in a summary"`
	MaxChars     int `json:"max_chars" jsonschema:"minimum=1,maximum=2147483647,description=most characters in a summary"`
}

// Validate refuses what the schema's bounds refuse, for a worker started
// without the API server's check.
func (s *settings) Validate() error {
	if s.MaxSentences < 1 || s.MaxSentences > math.MaxInt32 {
		return fn.Invalid("max_sentences", fmt.Sprintf("is %d, want an integer from 1 to %d", s.MaxSentences, math.MaxInt32))
	}
	if s.MaxChars < 1 || s.MaxChars > math.MaxInt32 {
		return fn.Invalid("max_chars", fmt.Sprintf("is %d, want an integer from 1 to %d", s.MaxChars, math.MaxInt32))
	}
	return nil
}

// defaults is the metadata of a worker that sets none.
var defaults = settings{MaxSentences: defaultMaxSentences, MaxChars: defaultMaxChars}

func main() { fn.RunTyped("summarizer", defaults, process) }

// process annotates msg in place with the summary its settings ask for and
// returns it.
func process(_ context.Context, msg fn.Message, in fn.In[settings]) ([]fn.Out, error) {
	if err := annotate(msg, in.Meta.MaxSentences, in.Meta.MaxChars); err != nil {
		return nil, err
	}
	return fn.Emit(msg), nil
}
