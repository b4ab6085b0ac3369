package fn

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

// FuzzAdapt: the SDK decodes any message and metadata bytes without
// panicking; bad input is refused (a message as a rejection, so it is
// dead-lettered), and what passes through comes out as valid JSON.
func FuzzAdapt(f *testing.F) {
	for _, seed := range [][2]string{{`{"id":"1","content":{"text":"a"}}`, `{"k":1}`}, {`[1]`, `null`},
		{`{"n":12345678901234567890123}`, ``}, {`{"a":"\ud800"}`, `[]`}, {``, `{`}} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	identity := Adapt(func(_ context.Context, msg Message, _ Metadata) (Message, error) { return msg, nil })
	f.Fuzz(func(t *testing.T, raw, meta []byte) {
		out, err := identity(context.Background(), raw, meta)
		var rej *worker.Rejected
		switch {
		case err != nil && !json.Valid(raw) && !errors.As(err, &rej):
			t.Fatalf("Adapt(%q): %v, want a rejection (the message is not JSON)", raw, err)
		case err == nil && !json.Valid(raw):
			t.Fatalf("Adapt accepted %q, which is not JSON", raw)
		case err == nil && out != nil && !json.Valid(out):
			t.Fatalf("Adapt(%q) emitted invalid JSON %q", raw, out)
		}
	})
}
