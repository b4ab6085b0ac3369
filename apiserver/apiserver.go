// Package apiserver holds the domain of Tributary's API server: users and
// roles, the legacy consumer config, and the typed error every layer returns
// so that the HTTP adapter can map it to a status in one place.
package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Code classifies an Error; httpapi maps each Code to one HTTP status.
type Code string

// Error codes. Their HTTP statuses live in httpapi's status table.
const (
	CodeBadRequest      Code = "bad_request"            // malformed body: not JSON, wrong type, unknown field
	CodeInvalid         Code = "invalid"                // well-formed but semantically wrong value
	CodeUnauthenticated Code = "unauthenticated"        // missing, expired or bad token; wrong password
	CodeForbidden       Code = "forbidden"              // authenticated but the role is too low
	CodeNotFound        Code = "not_found"              // no such resource
	CodeConflict        Code = "conflict"               // unique name taken, concurrent first registration
	CodeTooLarge        Code = "too_large"              // body over the configured limit
	CodeMediaType       Code = "unsupported_media_type" // a body that is not JSON (or multipart where asked)
	CodeTooMany         Code = "too_many_requests"      // throttled: too many failed logins
	CodeUnavailable     Code = "unavailable"            // a dependency (the database) does not answer
	CodeInternal        Code = "internal"               // anything else; its message is never shown
	CodeMethod          Code = "method_not_allowed"     // route exists, method does not
)

// Error is the error every layer returns for a condition a client can act
// on. Field names the request field at fault (JSON path style, e.g.
// "[1].topics_input"), when there is one.
type Error struct {
	Code    Code
	Message string
	Field   string
	Err     error // the cause, for logs; never sent to the client
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error without a field.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an *Error naming field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of the first *Error in err's chain, else
// CodeInternal.
func ErrorCode(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

// Role is a user's permission level; each level includes the ones below.
type Role string

// Roles, lowest first.
const (
	RoleViewer Role = "viewer" // read everything
	RoleEditor Role = "editor" // change and deploy
	RoleAdmin  Role = "admin"  // manage users
)

var roleRank = map[Role]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// Allows reports whether r includes the permissions of need.
func (r Role) Allows(need Role) bool { return r.Valid() && roleRank[r] >= roleRank[need] }

// User is an account. PasswordHash is a bcrypt hash and never leaves the
// server: it has no JSON tag on purpose.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         Role
	CreatedAt    time.Time
	// DisabledAt is when an admin disabled the user, nil while enabled. A
	// disabled user cannot log in, and its tokens are refused.
	DisabledAt *time.Time
}

// ConsumerConfig is one worker's row of consumer_configs as the API server
// sees it. Fields the legacy API does not expose keep their stored values
// when the legacy API updates a row.
type ConsumerConfig struct {
	ID                   int64
	ConsumerName         string
	TopicsInput          []string
	TopicsOutput         []string
	KafkaBootstrapServer string
	Metadatas            json.RawMessage // nil when NULL
	TimeoutSeconds       int
	JoinKey              string
	ExpiryTopic          string // "" when NULL
	DeadLetterTopic      string // "" when NULL
	TombstoneTTLSeconds  int    // 0 when NULL: the runtime's default (1 h)
	ConfigVersion        int

	// What the API server adds (migration 003); the runtime ignores them.
	FunctionName    string    // "" when none is chosen yet
	FunctionVersion string    // "" when none is chosen yet
	Instances       int       // Nomad allocations wanted
	ClusterID       int64     // 0: no registered cluster, KafkaBootstrapServer as given
	PipelineID      int64     // 0: a standalone worker
	DesiredState    string    // DesiredRunning or DesiredStopped
	UpdatedAt       time.Time // last change of the row
	// Autoscale is the worker's lag autoscaling policy (migration 007). It
	// is a deployment setting, like the live instance count: changing it
	// makes no config version and does not roll the job.
	Autoscale Autoscale
}

// Autoscale is a worker's lag autoscaling policy, with the semantics of
// KEDA's Kafka scaler (see package controlplane). The zero value is off.
type Autoscale struct {
	Enabled         bool
	Min, Max        int   // instance bounds
	LagPerInstance  int64 // desired = ceil(total lag / LagPerInstance)
	ActivationLag   int64 // at or below it, a worker at Min is not scaled up
	CooldownSeconds int   // least time since the last change before scaling down
}

// Desired states of a worker: whether the reconciler keeps its job running.
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// SameSettings reports whether a and b have the same editable settings
// (everything but ids, version, desired state and timestamps).
func (a ConsumerConfig) SameSettings(b ConsumerConfig) bool {
	return a.ConsumerName == b.ConsumerName && slices.Equal(a.TopicsInput, b.TopicsInput) &&
		slices.Equal(a.TopicsOutput, b.TopicsOutput) && a.KafkaBootstrapServer == b.KafkaBootstrapServer &&
		SameJSON(a.Metadatas, b.Metadatas) && a.TimeoutSeconds == b.TimeoutSeconds && a.JoinKey == b.JoinKey &&
		a.ExpiryTopic == b.ExpiryTopic && a.DeadLetterTopic == b.DeadLetterTopic &&
		a.TombstoneTTLSeconds == b.TombstoneTTLSeconds &&
		a.FunctionName == b.FunctionName && a.FunctionVersion == b.FunctionVersion &&
		a.Instances == b.Instances && a.ClusterID == b.ClusterID
}

// SameJSON compares two JSON values ignoring insignificant whitespace; nil,
// empty and null are the same.
func SameJSON(a, b json.RawMessage) bool {
	null := func(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }
	if null(a) || null(b) {
		return null(a) && null(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
