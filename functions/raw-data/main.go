// Command raw-data is the Tributary function that normalizes raw records
// before anything else reads them: the id becomes a string, content.text is
// cleaned of control characters and extra white space, and
// content.received_at is set to the time of processing (see normalize). A
// record without a usable id or text is rejected. It has no settings.
package main

import (
	"context"
	"time"

	"github.com/tributary-etl/tributary/shared/fn"
)

func main() { fn.Run("raw-data", process) }

// process returns the normalized copy of msg.
func process(_ context.Context, msg fn.Message, _ fn.In[fn.Metadata]) ([]fn.Out, error) {
	out, err := normalize(msg, time.Now())
	if err != nil {
		return nil, err
	}
	return fn.Emit(out), nil
}
