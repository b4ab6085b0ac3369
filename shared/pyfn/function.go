package pyfn

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tributary-etl/tributary/shared/worker"
)

// Function is r as the worker runtime's Function: Init starts the
// interpreter with the worker's metadata (a module that does not load, or
// whose init raises, exits the worker with status 2), and ProcessBatch
// sends each batch across the pipe (in frames of up to chunk messages, see
// run) and reads one result per message. Options left unset take
// the worker's: ConsumerName its name, Log its logger.
//
// Errors map onto the runtime's dead-letter classes: an exception is a
// process_error, retried alone and then dead-lettered with its traceback;
// a bad return value is bad_output, a call past its deadline is
// ClassTimeout and a message that kept killing the interpreter is
// ClassCrash, all dead-lettered at once.
func (r *Runner) Function() worker.Function {
	return worker.Function{
		Init: func(ctx context.Context, meta json.RawMessage) error {
			r.mu.Lock()
			r.o.Metadata = meta
			if env, ok := worker.InitEnv(ctx); ok {
				if r.o.ConsumerName == "" {
					r.o.ConsumerName = env.ConsumerName
				}
				if !r.logSet {
					r.o.Log = env.Log
				}
			}
			r.mu.Unlock()
			return r.Start(ctx)
		},
		ProcessBatch: r.processBatch,
	}
}

func (r *Runner) processBatch(ctx context.Context, ins []worker.Input) []worker.Result {
	msgs := make([]message, len(ins))
	for i, in := range ins {
		msgs[i] = message{Value: in.Value, Key: in.Key, Topics: in.Topics, JoinID: in.JoinID}
		if len(in.Headers) > 0 {
			hs := make([]header, len(in.Headers))
			for j, h := range in.Headers {
				hs[j] = header{Key: h.Key, Value: h.Value}
			}
			msgs[i].Headers = hs
		}
	}
	out := r.call(ctx, msgs)
	res := make([]worker.Result, len(out))
	for i, o := range out {
		res[i].Took = o.took
		if o.err != nil {
			res[i].Err = runtimeError(o.err)
			continue
		}
		if len(o.recs) == 0 {
			continue
		}
		recs := make([]worker.Record, len(o.recs))
		for j, rec := range o.recs {
			recs[j] = worker.Record{Value: rec.Value, Topics: rec.Topics, Key: rec.Key}
			for _, h := range rec.Headers {
				recs[j].Headers = append(recs[j].Headers, worker.Header{Key: h.Key, Value: h.Value})
			}
		}
		res[i].Records = recs
	}
	return res
}

// runtimeError gives a Python failure the runtime's class: deterministic
// ones are rejected (dead-lettered without a retry).
func runtimeError(err error) error {
	var ce *callError
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.class {
	case worker.ClassBadOutput, ClassTimeout, ClassCrash:
		return &worker.Rejected{Err: &worker.InputError{Class: ce.class, Err: ce}}
	}
	return ce // an exception: retried, then a process_error dead letter
}
