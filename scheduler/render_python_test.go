package scheduler

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestRenderPythonWorker renders a Python worker through Nomad's parser: the
// job downloads the runtime and the code, each with its checksum, points
// the runtime at the code, and asks for a client with python3; a Go worker's
// job has none of that.
func TestRenderPythonWorker(t *testing.T) {
	client, err := api.NewClient(&api.Config{Address: stacktest.Nomad(t)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(client, filepath.Join("..", "jobs", "worker.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	render := func(code Code) *api.Task {
		t.Helper()
		vars, err := WorkerSpec{Worker: "render-py", ArtifactURL: "http://127.0.0.1:1/artifacts/python/1",
			ArtifactSHA256: strings.Repeat("ab", 32), Code: code}.variables()
		if err != nil {
			t.Fatal(err)
		}
		job, err := s.render(t.Context(), vars)
		if err != nil {
			t.Fatalf("render: %v\nvariables:\n%s", err, vars)
		}
		return job.TaskGroups[0].Tasks[0]
	}
	for _, tc := range []struct {
		archive          bool
		dest, mode       string
		module, archived string
	}{
		{false, "local/code/main.py", "file", "${NOMAD_TASK_DIR}/code/main.py", "false"},
		{true, "local/code", "dir", "${NOMAD_TASK_DIR}/code", "tar.gz"},
	} {
		code := Code{URL: "http://127.0.0.1:1/artifacts/keywords/1", SHA256: strings.Repeat("CD", 32), Archive: tc.archive}
		task := render(code)
		if len(task.Artifacts) != 2 {
			t.Fatalf("archive=%t: %d artifacts, want the runtime and the code", tc.archive, len(task.Artifacts))
		}
		a := task.Artifacts[1]
		if *a.GetterSource != code.URL || *a.RelativeDest != tc.dest || *a.GetterMode != tc.mode ||
			a.GetterOptions["checksum"] != "sha256:"+strings.Repeat("cd", 32) || a.GetterOptions["archive"] != tc.archived {
			t.Errorf("archive=%t: code artifact %s → %s mode %s options %v", tc.archive, *a.GetterSource, *a.RelativeDest, *a.GetterMode, a.GetterOptions)
		}
		if got := task.Env["TRIBUTARY_PYTHON_MODULE"]; got != tc.module {
			t.Errorf("archive=%t: TRIBUTARY_PYTHON_MODULE %q, want %q", tc.archive, got, tc.module)
		}
		if len(task.Constraints) != 1 || task.Constraints[0].LTarget != "${meta.python3}" || task.Constraints[0].Operand != "is_set" {
			t.Errorf("archive=%t: constraints %+v, want ${meta.python3} is_set", tc.archive, task.Constraints)
		}
	}
	goTask := render(Code{})
	if len(goTask.Artifacts) != 1 || len(goTask.Constraints) != 0 || goTask.Env["TRIBUTARY_PYTHON_MODULE"] != "" {
		t.Errorf("a Go worker's task has %d artifacts, constraints %+v, env %v", len(goTask.Artifacts), goTask.Constraints, goTask.Env)
	}
	if _, err := (WorkerSpec{Worker: "render-py", ArtifactURL: "http://x/a", ArtifactSHA256: strings.Repeat("ab", 32),
		Code: Code{URL: "http://x/c", SHA256: "nope"}}).variables(); err == nil || !strings.Contains(err.Error(), "code sha256") {
		t.Errorf("a bad code sha256: %v", err)
	}
}
