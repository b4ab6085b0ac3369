package worker

import (
	"errors"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Error classes written to the tributary.error.class header of dead letters.
const (
	ClassNotJSON    = "not_json"
	ClassMissingKey = "missing_key"
	ClassBadKey     = "bad_key"
	ClassTooLarge   = "too_large"
	ClassProcess    = "process_error"
	ClassRejected   = "rejected"
	ClassPanic      = "panic"
	ClassBadOutput  = "bad_output"
	ClassExpired    = "expired" // an incomplete join timed out (with no expiry topic set)
)

// Header names of dead letters and expired aggregates.
const (
	HeaderWorker          = "tributary.worker"
	HeaderSourceTopic     = "tributary.source.topic"
	HeaderSourcePartition = "tributary.source.partition"
	HeaderSourceOffset    = "tributary.source.offset"
	HeaderErrorClass      = "tributary.error.class"
	HeaderErrorMessage    = "tributary.error.message"
	HeaderJoinID          = "tributary.join.id"
	HeaderJoinTopics      = "tributary.join.topics"
	HeaderExpired         = "tributary.expired"
)

// InputError is a message the runtime cannot join: it is dead-lettered with
// its class, never retried.
type InputError struct {
	Class string
	Err   error
}

func (e *InputError) Error() string { return e.Class + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Rejected marks an error from a function as final: the aggregate is
// dead-lettered at once instead of being retried.
type Rejected struct{ Err error }

func (e *Rejected) Error() string { return "rejected: " + e.Err.Error() }
func (e *Rejected) Unwrap() error { return e.Err }

// errorClass picks the class of a process failure.
func errorClass(err error) string {
	var ie *InputError
	var rj *Rejected
	var pe *panicError
	switch {
	case errors.As(err, &ie):
		return ie.Class
	case errors.As(err, &pe):
		return ClassPanic
	case errors.As(err, &rj):
		return ClassRejected
	}
	return ClassProcess
}

// maxErrorHeader bounds the error message copied into a header.
const maxErrorHeader = 1024

// deadLetter builds the dead-letter record of a consumed message: its value,
// key and headers unchanged, plus headers saying where it came from and why.
func (w *Worker) deadLetter(m kafka.Message, class string, cause error) kafka.Message {
	msg := cause.Error()
	if len(msg) > maxErrorHeader {
		msg = msg[:maxErrorHeader]
	}
	hs := append([]kafka.Header(nil), m.Headers...)
	hs = append(hs,
		kafka.Header{Key: HeaderWorker, Value: []byte(w.cfg.ConsumerName)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafka.Header{Key: HeaderErrorClass, Value: []byte(class)},
		kafka.Header{Key: HeaderErrorMessage, Value: []byte(msg)},
	)
	return kafka.Message{Topic: w.cfg.DeadLetter, Key: m.Key, Value: m.Value, Headers: hs}
}
