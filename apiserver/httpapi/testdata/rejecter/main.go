// Command rejecter is the function of the dead-letter and replay tests: it
// rejects a message with "reject": true, unless the worker's metadata has
// "accept_rejects": true (a new config version, as a fixed function
// version would be), and passes every other message through.
package main

import (
	"context"
	"errors"

	"github.com/tributary-etl/tributary/shared/fn"
)

func main() { fn.Run("rejecter", process) }

func process(_ context.Context, msg fn.Message, in fn.In[fn.Metadata]) ([]fn.Out, error) {
	if reject, _ := msg["reject"].(bool); reject && in.Meta["accept_rejects"] != true {
		return nil, fn.Reject(errors.New(`"reject": true`))
	}
	return fn.Emit(msg), nil
}
