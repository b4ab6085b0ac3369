// Command python runs a Python module as a Tributary worker's function.
// The module keeps the original workers' signature:
//
//	def process(message, consumer_name, metadatas):
//	    return message          # a dict, None (filter), or a list
//
// and may define init(metadatas), run once before the first message. See
// shared/pyfn/tributary/__init__.py for what process may return, and
// shared/pyfn for how the interpreter is run, restarted and timed out.
//
//	TRIBUTARY_PYTHON_MODULE=functions/keywords/main.py ./bin/python -worker NAME -topics-input a -topics-output b ...
//
// It takes every flag of a Go function binary (see -h), and these from the
// environment only, as the runtime owns the flag set:
//
//	TRIBUTARY_PYTHON_MODULE   a .py file, or a directory whose main.py defines process (required)
//	TRIBUTARY_PYTHON          the interpreter (default python3)
//	TRIBUTARY_PYTHON_TIMEOUT  one message's deadline, e.g. 5s (default: the worker's process timeout for the batch)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/shared/pyfn"
	"github.com/tributary-etl/tributary/shared/worker"
)

const name = "python"

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

const envHelp = `
Python runtime (environment only):
  TRIBUTARY_PYTHON_MODULE   a .py file, or a directory whose main.py defines process (required)
  TRIBUTARY_PYTHON          the interpreter (default python3)
  TRIBUTARY_PYTHON_TIMEOUT  one message's deadline, e.g. 5s (default: the worker's process timeout)
`

// described is the function as -h and -describe see it, with no module
// loaded: a batch function without a metadata schema.
var described = worker.Function{ProcessBatch: func(context.Context, []worker.Input) []worker.Result { return nil }}

func run(args []string, stderr io.Writer) int {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		defer fmt.Fprint(stderr, envHelp)
		return worker.Main(name, described, args, stderr)
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.TrimLeft(a, "-") == "describe" }) {
		return worker.Main(name, described, args, stderr)
	}
	module := os.Getenv("TRIBUTARY_PYTHON_MODULE")
	if module == "" {
		fmt.Fprintf(stderr, "%s: TRIBUTARY_PYTHON_MODULE is required: the .py file, or a directory with main.py, to run\n", name)
		return 2
	}
	var timeout time.Duration
	if v := os.Getenv("TRIBUTARY_PYTHON_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "%s: TRIBUTARY_PYTHON_TIMEOUT %q: want a positive duration such as 5s\n", name, v)
			return 2
		}
		timeout = d
	}
	// The consumer name and the logger are the worker's, given to the
	// runner's Init.
	r, err := pyfn.New(pyfn.Options{Module: module, Python: os.Getenv("TRIBUTARY_PYTHON"), Timeout: timeout})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	defer r.Close()
	return worker.Main(name, r.Function(), args, stderr)
}
