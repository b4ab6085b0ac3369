package worker

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzJoinID: decoding a message's join id never panics, never accepts an
// oversized message, and refuses with an *InputError.
func FuzzJoinID(f *testing.F) {
	for _, seed := range []string{`{"id":"a"}`, `{"id":12345678901234567890}`, `{"id":1.5}`, `{"id":""}`, `[]`, `{"id":{"x":1}}`,
		`{"a":[1,2,{"id":"deep"}],"id":"top"}`, `{"id":"\ud800"}`, ``, `{`} {
		f.Add([]byte(seed), "id")
	}
	f.Fuzz(func(t *testing.T, value []byte, key string) {
		const limit = 4096
		id, err := joinID(value, key, limit)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("joinID(%q) error %T %v is not an *InputError", value, err, err)
			}
			return
		}
		if id == "" || len(value) > limit || !json.Valid(value) {
			t.Fatalf("joinID(%q, %q) accepted: id %q", value, key, id)
		}
	})
}

// FuzzValidate: a worker's configuration is accepted or refused with a
// *FieldError, never a panic; an accepted one has its defaults filled.
func FuzzValidate(f *testing.F) {
	f.Add("orders", "a,b", "c", []byte(`{"k":1}`), "", "", int64(0))
	f.Add("", "", "", []byte(`{`), "x y", "..", int64(-1))
	f.Add("w.1_2-3", "a", "a", []byte(nil), "dl", "exp", int64(time.Hour))
	f.Fuzz(func(t *testing.T, name, in, out string, meta []byte, dead, expiry string, timeout int64) {
		c := Config{ConsumerName: name, TopicsInput: SplitList(in), TopicsOutput: SplitList(out), Brokers: []string{"127.0.0.1:9092"},
			Metadata: meta, DeadLetter: dead, ExpiryTopic: expiry, Timeout: time.Duration(timeout), RedisAddr: "127.0.0.1:6379"}
		err := c.Validate()
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Reason == "" {
				t.Fatalf("Validate error %T %v is not a *FieldError naming a field", err, err)
			}
			return
		}
		if c.DeadLetter == "" || c.JoinKey == "" || c.Timeout < time.Second || len(c.TopicsInput) == 0 || strings.ContainsAny(c.ConsumerName, " {}") {
			t.Fatalf("accepted %+v", c)
		}
	})
}
