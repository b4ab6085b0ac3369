package fn

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

// FuzzAdapt: the SDK decodes any message and metadata bytes without
// panicking; bad metadata is refused at Init with a field error, a bad
// message as a rejection (so it is dead-lettered), and what passes through
// comes out as valid JSON.
func FuzzAdapt(f *testing.F) {
	for _, seed := range [][2]string{{`{"id":"1","content":{"text":"a"}}`, `{"k":1}`}, {`[1]`, `null`},
		{`{"n":12345678901234567890123}`, ``}, {`{"a":"\ud800"}`, `[]`}, {``, `{`}} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	identity := Adapt(func(_ context.Context, msg Message, _ In[Metadata]) ([]Out, error) { return Emit(msg), nil })
	f.Fuzz(func(t *testing.T, raw, meta []byte) {
		if err := identity.Init(context.Background(), meta); err != nil && !errors.As(err, new(*worker.FieldError)) {
			t.Fatalf("Init(%q): %v, want a field error", meta, err)
		}
		recs, err := identity.Process(context.Background(), worker.Input{Value: raw})
		var rej *worker.Rejected
		switch {
		case err != nil && !json.Valid(raw) && !errors.As(err, &rej):
			t.Fatalf("Adapt(%q): %v, want a rejection (the message is not JSON)", raw, err)
		case err == nil && !json.Valid(raw):
			t.Fatalf("Adapt accepted %q, which is not JSON", raw)
		case err == nil && len(recs) == 1 && !json.Valid(recs[0].Value):
			t.Fatalf("Adapt(%q) emitted invalid JSON %q", raw, recs[0].Value)
		}
	})
}
