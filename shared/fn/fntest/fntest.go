// Package fntest calls a function the way the runtime does, for the
// function's own tests: Init with the metadata, then Process on one message.
package fntest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tributary-etl/tributary/shared/worker"
)

// Records runs f's Init with meta ("" for none), then its Process on msg,
// and returns its records. An Init error is returned as the worker would
// exit with it.
func Records(f worker.Function, msg, meta string) ([]worker.Record, error) {
	ctx := context.Background()
	if f.Init != nil {
		raw := json.RawMessage("null")
		if meta != "" {
			raw = json.RawMessage(meta)
		}
		if err := f.Init(ctx, raw); err != nil {
			return nil, err
		}
	}
	return f.Process(ctx, worker.Input{Value: json.RawMessage(msg), JoinID: "test"})
}

// Value is Records for a function that emits at most one record: its
// value, nil when it filtered.
func Value(f worker.Function, msg, meta string) (json.RawMessage, error) {
	recs, err := Records(f, msg, meta)
	switch {
	case err != nil || len(recs) == 0:
		return nil, err
	case len(recs) > 1:
		return nil, fmt.Errorf("%d records, want at most one", len(recs))
	}
	return recs[0].Value, nil
}
