// Command language-detector is the Tributary function that sets
// content.language (ISO 639-1, or "" when unsure) and
// content.language_confidence on each message. A message without a string
// content.text is rejected. It has no settings.
package main

import (
	"context"

	"github.com/tributary-etl/tributary/shared/fn"
)

func main() { fn.Run("language-detector", process) }

// process annotates msg in place and returns it.
func process(_ context.Context, msg fn.Message, _ fn.In[fn.Metadata]) ([]fn.Out, error) {
	if err := annotate(msg); err != nil {
		return nil, err
	}
	return fn.Emit(msg), nil
}
