// Package reject builds the errors a function returns for a message it can
// never process. Each names the field at fault and says why, and is wrapped
// by fn.Reject, so the runtime dead-letters the message at once instead of
// retrying it, with "rejected: <field>: <reason>" as the reason.
package reject

import (
	"fmt"

	"github.com/tributary-etl/tributary/shared/fn"
)

// Missing is the reason given for a field that is absent or null.
const Missing = "missing"

// FieldError names the field that is wrong and why. The errors of Field and
// WrongType wrap one; find it with errors.As.
type FieldError struct {
	Field  string // dotted path of the offending field, e.g. "content.text"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Field rejects a message because of field, for reason.
func Field(field, reason string) error {
	return fn.Reject(&FieldError{Field: field, Reason: reason})
}

// WrongType rejects a message whose field holds v instead of what it wants
// ("a string", "an object"); the reason is Missing when v is nil.
func WrongType(field string, v any, want string) error {
	if v == nil {
		return Field(field, Missing)
	}
	return Field(field, fmt.Sprintf("is %T, want %s", v, want))
}
