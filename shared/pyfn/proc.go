package pyfn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// proc is one running interpreter. It is used by one goroutine at a time.
type proc struct {
	cmd    *exec.Cmd
	in     *os.File // the interpreter's stdin: frames to Python
	out    *os.File // its stdout: frames from Python
	rd     *bufio.Reader
	buf    []byte // reused by readFrame
	wbuf   []byte // reused by appendBatch
	exited chan struct{}
	pid    int
}

// errExited is a read or write that failed because the interpreter is gone.
var errExited = errors.New("the Python interpreter exited")

// errSyscallPipe is a write to an interpreter that closed its stdin.
const errSyscallPipe = syscall.EPIPE

// startProc starts `python -m tributary module`, sends init and waits up to
// timeout for ready. A fatal frame (the module did not load, or its init
// failed) is returned as a *FatalError.
func startProc(ctx context.Context, o *Options, pkgDir string, init []byte) (*proc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	// -B: the module's directory may be read-only, and no one reads the cache.
	cmd := exec.Command(o.Python, "-B", "-m", "tributary", o.Module)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonPath(pkgDir))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %s: %w", o.Python, err)
	}
	p := &proc{cmd: cmd, in: inW, out: outR, rd: bufio.NewReaderSize(outR, 64<<10), exited: make(chan struct{}), pid: cmd.Process.Pid}
	logged := make(chan struct{})
	go func() {
		forwardLog(errR, o.Log.With("python_pid", p.pid), o.LogLines)
		close(logged)
	}()
	go func() {
		<-logged // Wait closes nothing of ours, but its status reads best after the last line
		_ = cmd.Wait()
		close(p.exited)
	}()

	deadline := time.Now().Add(o.StartTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := p.write(init, deadline); err != nil {
		p.kill()
		return nil, p.exitError("send init", err)
	}
	rep, err := p.read(deadline)
	switch {
	case err != nil:
		p.kill()
		return nil, p.exitError("wait for the interpreter to start", err)
	case rep.Fatal != "":
		p.kill()
		return nil, &FatalError{Traceback: rep.Fatal}
	case rep.Ready == nil:
		p.kill()
		return nil, fmt.Errorf("%w: the first frame is not ready", errProtocol)
	}
	o.Log.Info("python interpreter ready", "python_pid", p.pid, "python", rep.Ready.Python, "module", o.Module, "init", rep.Ready.Init)
	return p, nil
}

func pythonPath(pkgDir string) string {
	if old := os.Getenv("PYTHONPATH"); old != "" {
		return pkgDir + string(os.PathListSeparator) + old
	}
	return pkgDir
}

// FatalError is an interpreter that could not start the module: an import
// error, a module without process, or an init that raised.
type FatalError struct{ Traceback string }

func (e *FatalError) Error() string {
	return "python module failed to start: " + strings.TrimSpace(e.Traceback)
}

func (p *proc) write(b []byte, deadline time.Time) error {
	if err := p.in.SetWriteDeadline(deadline); err != nil {
		return err
	}
	_, err := p.in.Write(b)
	return err
}

func (p *proc) read(deadline time.Time) (reply, error) {
	if err := p.out.SetReadDeadline(deadline); err != nil {
		return reply{}, err
	}
	return readFrame(p.rd, &p.buf)
}

// exitError names why a read or write failed: a timeout, or the
// interpreter's exit status.
func (p *proc) exitError(what string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) || errors.Is(err, errSyscallPipe) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s: %w (%s)", what, errExited, p.cmd.ProcessState)
		case <-time.After(time.Second): // the pipe closed first; the status follows
			return fmt.Errorf("%s: %w", what, errExited)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// kill stops the interpreter at once and waits for it to be reaped.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	p.in.Close()
	<-p.exited
	p.out.Close()
}

// stop closes the interpreter's stdin, which ends it cleanly, and kills it
// if it has not exited by the deadline.
func (p *proc) stop(deadline time.Time) {
	p.in.Close()
	select {
	case <-p.exited:
	case <-time.After(time.Until(deadline)):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.out.Close()
}

// maxLogLine bounds one forwarded line; the rest of a longer one is cut.
const maxLogLine = 16 << 10

// forwardLog logs each line the interpreter writes to stderr (print output
// included), at most perSecond a second with a burst of as many: a print
// storm must not flood the worker's log or stall the interpreter on a full
// pipe. The lines it drops are counted in the next line it logs.
func forwardLog(r io.ReadCloser, log *slog.Logger, perSecond int) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLogLine)
	lim := rate.NewLimiter(rate.Limit(perSecond), perSecond)
	dropped := 0
	for {
		line, err := br.ReadSlice('\n')
		cut := errors.Is(err, bufio.ErrBufferFull)
		if len(line) > 0 {
			if lim.Allow() {
				text := strings.TrimRight(string(line), "\r\n")
				if cut {
					text += " [line cut at 16 KiB]"
				}
				if dropped > 0 {
					log.Warn(text, "stream", "stderr", "dropped_lines", dropped)
					dropped = 0
				} else {
					log.Info(text, "stream", "stderr")
				}
			} else {
				dropped++
			}
		}
		for cut { // skip the rest of an over-long line
			_, err = br.ReadSlice('\n')
			cut = errors.Is(err, bufio.ErrBufferFull)
		}
		if err != nil {
			if dropped > 0 {
				log.Warn("python stderr lines dropped by the rate limit", "stream", "stderr", "dropped_lines", dropped)
			}
			return
		}
	}
}
