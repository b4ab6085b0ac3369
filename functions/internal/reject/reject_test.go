package reject

import (
	"errors"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantField  string
		wantReason string
		wantText   string
	}{
		{"field", Field("content.text", "empty"), "content.text", "empty", "rejected: content.text: empty"},
		{"missing", WrongType("content", nil, "an object"), "content", Missing, "rejected: content: missing"},
		{"wrong type", WrongType("id", true, "a string"), "id", "is bool, want a string", "rejected: id: is bool, want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rejected *worker.Rejected
			if !errors.As(tc.err, &rejected) {
				t.Errorf("%v is not a *worker.Rejected: it would be retried", tc.err)
			}
			var fe *FieldError
			if !errors.As(tc.err, &fe) {
				t.Fatalf("%v does not wrap a *FieldError", tc.err)
			}
			if fe.Field != tc.wantField || fe.Reason != tc.wantReason {
				t.Errorf("got {%q, %q}, want {%q, %q}", fe.Field, fe.Reason, tc.wantField, tc.wantReason)
			}
			if tc.err.Error() != tc.wantText {
				t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.wantText)
			}
		})
	}
}
