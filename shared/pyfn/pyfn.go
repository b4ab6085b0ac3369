package pyfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Options fields left zero.
const (
	DefaultPython = "python3"
	// DefaultStartTimeout bounds starting the interpreter, importing the
	// module and running its init.
	DefaultStartTimeout = 60 * time.Second
	// DefaultLogLines is how many stderr lines a second reach the log.
	DefaultLogLines = 100
	// DefaultCrashes is how many times one message may take the
	// interpreter down before it is dead-lettered as ClassCrash.
	DefaultCrashes = 3
)

// Restart backoff after a crash: it doubles with each crash in a row, up to
// the cap, and resets once a batch completes.
const (
	restartBackoff    = 100 * time.Millisecond
	maxRestartBackoff = 10 * time.Second
)

// Error classes of a Python call, written to the dead letter's
// tributary.error.class header.
const (
	// ClassTimeout is a message whose call outlived Options.Timeout; the
	// interpreter was killed and restarted.
	ClassTimeout = "timeout"
	// ClassCrash is a message during which the interpreter died
	// Options.Crashes times in a row.
	ClassCrash = "interpreter_crash"
)

// Options configure a Runner.
type Options struct {
	Module       string          // a .py file, or a directory whose main.py defines process (required)
	ConsumerName string          // process's consumer_name argument (default, run as a Function: the worker's name)
	Python       string          // the interpreter (default DefaultPython)
	Timeout      time.Duration   // one message's deadline; 0: only the call's context deadline
	StartTimeout time.Duration   // start, import and init (default DefaultStartTimeout)
	LogLines     int             // stderr lines a second forwarded to Log (default DefaultLogLines)
	Crashes      int             // crashes one message may cause (default DefaultCrashes)
	Log          *slog.Logger    // where stderr lines and restarts go (default: the worker's logger run as a Function, else slog.Default())
	Metadata     json.RawMessage // init's and process's metadatas; nil: None
}

// Runner runs a Python module's process in one long-lived interpreter,
// restarting it when it dies or a call times out. Its methods are safe for
// concurrent use; calls are serialised, as the interpreter runs one at a time.
type Runner struct {
	o      Options
	pkgDir string
	logSet bool // Options.Log was given: the worker's logger does not replace it

	mu      sync.Mutex // held for a whole call: one interpreter, one batch at a time
	p       *proc      // nil until started, and after a crash or timeout
	crashes int        // in a row, for the restart backoff
	closed  bool
	pid     atomic.Int64 // of p, readable during a call
}

// New checks o and unpacks the tributary package; it starts nothing.
func New(o Options) (*Runner, error) {
	if o.Module == "" {
		return nil, errors.New("pyfn: no module: set Options.Module to a .py file or a directory with main.py")
	}
	if _, err := os.Stat(o.Module); err != nil {
		return nil, fmt.Errorf("pyfn: module: %w", err)
	}
	abs, err := filepath.Abs(o.Module)
	if err != nil {
		return nil, err
	}
	o.Module = abs
	if o.Python == "" {
		o.Python = DefaultPython
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.LogLines <= 0 {
		o.LogLines = DefaultLogLines
	}
	if o.Crashes <= 0 {
		o.Crashes = DefaultCrashes
	}
	logSet := o.Log != nil
	if !logSet {
		o.Log = slog.Default()
	}
	if len(o.Metadata) == 0 {
		o.Metadata = json.RawMessage("null")
	}
	dir, err := unpack()
	if err != nil {
		return nil, err
	}
	return &Runner{o: o, pkgDir: dir, logSet: logSet}, nil
}

// Start starts the interpreter, imports the module and runs its init. A
// *FatalError means the module cannot run (a bug in it, not a passing
// failure).
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		return nil
	}
	p, err := startProc(ctx, &r.o, r.pkgDir, r.initFrame())
	if err != nil {
		return err
	}
	r.use(p)
	return nil
}

func (r *Runner) initFrame() []byte {
	return appendFrame(nil, map[string]any{"init": map[string]any{"consumer_name": r.o.ConsumerName, "metadatas": r.o.Metadata}})
}

// Close stops the interpreter (it exits when its stdin closes) and removes
// the unpacked package.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		r.p.stop(time.Now().Add(5 * time.Second))
		r.use(nil)
	}
	r.closed = true
	return os.RemoveAll(r.pkgDir)
}

// PID is the running interpreter's process id, 0 when none runs. It does
// not wait for a call in progress.
func (r *Runner) PID() int { return int(r.pid.Load()) }

// use makes p (nil: none) the interpreter of the next calls.
func (r *Runner) use(p *proc) {
	r.p = p
	if p == nil {
		r.pid.Store(0)
	} else {
		r.pid.Store(int64(p.pid))
	}
}

// outcome is one message's result.
type outcome struct {
	recs []record
	err  error
	took time.Duration // as Python measured process
}

// call runs process on each message and returns one outcome per message.
// A dead interpreter is restarted and the messages it had not answered are
// sent again; a message past its deadline gets a ClassTimeout error and the
// rest are sent to a new interpreter. Only ctx ending stops it early: the
// unanswered messages then get ctx's error.
func (r *Runner) call(ctx context.Context, msgs []message) []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]outcome, len(msgs))
	suspect, strikes := -1, 0 // the message the last crash happened on, and how often in a row
	careful := false          // after an unclear timeout: one message a batch, to find the stuck one
	for done := 0; done < len(msgs); {
		if r.p == nil {
			if err := r.restart(ctx); err != nil {
				fill(out[done:], err)
				return out
			}
		}
		todo := msgs[done:]
		if careful {
			todo = todo[:1]
		}
		n, err := r.p.run(ctx, todo, out[done:done+len(todo)], r.o.Timeout)
		done += n
		if err == nil {
			r.crashes = 0
			continue
		}
		r.p.kill()
		r.use(nil)
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			fill(out[done:], ctx.Err())
			return out
		case ctx.Err() != nil && done > 0:
			// The call's deadline (the worker's process timeout for the
			// whole batch) passed during a message that did not have it
			// all: it and the rest fail retryably, and the runtime retries
			// each alone, with a deadline of its own.
			fill(out[done:], fmt.Errorf("the batch's process timeout passed before this message was answered: %w", ctx.Err()))
			return out
		case errors.Is(err, os.ErrDeadlineExceeded) && len(todo)-n > 1:
			// Python sends results in bunches, so the first unanswered
			// message may be done and merely unsent: send the rest again
			// one at a time, and time out the one that really hangs.
			r.o.Log.Warn("python call timed out; retrying the rest of the batch one message at a time", "remaining", len(todo)-n)
			careful = true
		case errors.Is(err, os.ErrDeadlineExceeded):
			r.o.Log.Warn("python call timed out; restarting the interpreter", "join_id", msgs[done].JoinID)
			out[done].err = &callError{class: ClassTimeout, msg: "process did not return within its timeout; the interpreter was restarted"}
			done++
			if ctx.Err() != nil {
				fill(out[done:], ctx.Err())
				return out
			}
		default:
			r.crashes++
			if done == suspect {
				strikes++
			} else {
				suspect, strikes = done, 1
			}
			r.o.Log.Warn("python interpreter died; restarting it and retrying its batch", "join_id", msgs[done].JoinID,
				"remaining", len(msgs)-done, "crashes_on_message", strikes, "err", err)
			if strikes >= r.o.Crashes {
				out[done].err = &callError{class: ClassCrash, msg: fmt.Sprintf("the interpreter died %d times on this message: %v", strikes, err)}
				done++
			}
		}
	}
	return out
}

func fill(out []outcome, err error) {
	for i := range out {
		out[i].err = err
	}
}

// restart starts an interpreter, after the crash-loop backoff when the
// last ones died. It retries a failing start (its module or init raising
// included) until ctx ends.
func (r *Runner) restart(ctx context.Context) error {
	if r.closed {
		return errors.New("pyfn: runner closed")
	}
	for {
		if r.crashes > 0 {
			d := min(restartBackoff<<min(r.crashes-1, 16), maxRestartBackoff)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		p, err := startProc(ctx, &r.o, r.pkgDir, r.initFrame())
		if err == nil {
			r.use(p)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.crashes++
		r.o.Log.Error("python interpreter failed to restart", "err", err, "crashes", r.crashes)
	}
}

// callError is one message's failure in Python.
type callError struct {
	class string // a Class* constant, or the class Python named
	msg   string
}

func (e *callError) Error() string { return e.msg }

// chunk is how many messages go in one frame. A batch crosses the pipe as
// several frames, written by a goroutine while run reads the results of
// the earlier ones, so that the interpreter works on one frame while Go
// encodes the next and decodes the results of the last.
const chunk = 100

// run sends msgs in frames of up to chunk messages and reads their results
// into out, in frames of several, each frame within timeout (when set) of
// the previous one, and all before ctx's deadline. It returns how many it
// read and why it stopped short.
func (p *proc) run(ctx context.Context, msgs []message, out []outcome, timeout time.Duration) (int, error) {
	next := func() time.Time {
		d, ok := ctx.Deadline()
		if timeout > 0 && (!ok || time.Now().Add(timeout).Before(d)) {
			return time.Now().Add(timeout)
		}
		return d // the zero time, no deadline, when ctx has none
	}
	deadline := next()
	if err := p.in.SetWriteDeadline(time.Time{}); err != nil {
		return 0, err
	}
	// The writer stops at its first error: the read below fails then too,
	// on the interpreter's exit or on the same deadline.
	written := make(chan error, 1)
	go func() {
		for i := 0; i < len(msgs); i += chunk {
			p.wbuf = appendBatch(p.wbuf[:0], msgs[i:min(i+chunk, len(msgs))])
			if _, err := p.in.Write(p.wbuf); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	n, err := p.readResults(ctx, msgs, out, deadline, next)
	if err != nil {
		_ = p.in.SetWriteDeadline(time.Now()) // a writer blocked on a full pipe gives up
	}
	if werr := <-written; err == nil && werr != nil {
		err = p.exitError("send batch", werr)
	}
	return n, err
}

// readResults reads the results of msgs into out (see run).
func (p *proc) readResults(ctx context.Context, msgs []message, out []outcome, deadline time.Time, next func() time.Time) (int, error) {
	// ctx ending cuts the wait short: the read fails at once.
	stop := context.AfterFunc(ctx, func() { _ = p.out.SetReadDeadline(time.Now()) })
	defer stop()
	for i := 0; i < len(msgs); {
		if err := p.out.SetReadDeadline(deadline); err != nil {
			return i, err
		}
		if ctx.Err() != nil { // ended before the deadline was set: AfterFunc's went unseen
			return i, ctx.Err()
		}
		rep, err := readFrame(p.rd, &p.buf)
		if err != nil {
			return i, p.exitError("read result", err)
		}
		if len(rep.Results) == 0 || len(rep.Results) > len(msgs)-i {
			return i, fmt.Errorf("%w: %d results for %d messages", errProtocol, len(rep.Results), len(msgs)-i)
		}
		for _, res := range rep.Results {
			out[i].took = time.Duration(res.Nanos)
			if res.Err != "" {
				out[i].err = &callError{class: res.Class, msg: res.Err}
			} else {
				out[i].recs = res.Records
			}
			i++
		}
		deadline = next()
	}
	return len(msgs), nil
}
