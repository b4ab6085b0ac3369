// Package keywords holds a Python function; this test runs its unit tests
// with python3, so that `go test ./...` covers them with the Go ones.
package keywords

import (
	"os/exec"
	"testing"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestPythonUnitTests(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		stacktest.Unavailable(t, "python3", err)
	}
	out, err := exec.CommandContext(t.Context(), python, "-m", "unittest", "-v").CombinedOutput()
	t.Logf("python3 -m unittest -v:\n%s", out)
	if err != nil {
		t.Fatalf("python3 -m unittest: %v", err)
	}
}
