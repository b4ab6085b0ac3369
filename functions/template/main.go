// Command template is the starting point for a new Tributary function: it
// counts the words of content.text into content.word_count and upper-cases
// content.title. To write your own:
//
//  1. Copy this folder (cp -r functions/template functions/myfn) and pass
//     "myfn" to fn.Run.
//  2. Rewrite process. It gets one joined message (a JSON object whose
//     numbers are json.Number) and fn.In: the input's Kafka key, headers,
//     topics and join id, and the worker's metadata. It returns the records
//     to publish: fn.Emit(msg) for one to every output topic, nil for none,
//     or several fn.Out, each with its own topics, key and headers. Wrap an
//     error in fn.Reject when retrying cannot help (bad input): the message
//     goes to the dead-letter topic at once. Other errors are retried a few
//     times first. Kafka, joins, commits, retries and shutdown are the
//     runtime's. For settings of your own, use fn.RunTyped with a metadata
//     struct (see functions/enricher): bad settings stop the worker at start.
//  3. Change the table in main_test.go; go test ./functions/myfn.
//  4. Build, from the repository root: go build -trimpath -ldflags='-s -w' -o bin/myfn ./functions/myfn
//
// Run it against the local stack (make up); ./bin/myfn -h lists every flag
// and the environment variable that sets it:
//
//	./bin/myfn -worker NAME -topics-input a,b -topics-output c -brokers 127.0.0.1:9092 -redis 127.0.0.1:6379
package main

import (
	"context"
	"errors"
	"strings"

	"github.com/tributary-etl/tributary/shared/fn"
)

func main() { fn.Run("template", process) }

// process sets content.word_count and upper-cases content.title, in place.
// It filters messages whose content.text is empty or not a string, and
// rejects those without a content object.
func process(_ context.Context, msg fn.Message, _ fn.In[fn.Metadata]) ([]fn.Out, error) {
	content := msg.Content()
	if content == nil {
		// No retry can fix the message, so reject it: it is dead-lettered
		// with this reason.
		return nil, fn.Reject(errors.New("content: missing or not an object"))
	}
	text := msg.Text()
	if strings.TrimSpace(text) == "" {
		return nil, nil // filtered: nothing is published, the input is committed
	}
	content["word_count"] = len(strings.Fields(text))
	if title, ok := content["title"].(string); ok {
		content["title"] = strings.ToUpper(title)
	}
	return fn.Emit(msg), nil
}
