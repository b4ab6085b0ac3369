package scheduler

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestRenderKeepsValuesVerbatim renders hostile values through Nomad's own
// parser: none may be read as an HCL template or break the quoting.
func TestRenderKeepsValuesVerbatim(t *testing.T) {
	client, err := api.NewClient(&api.Config{Address: stacktest.Nomad(t)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(client, filepath.Join("..", "jobs", "worker.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TRIBUTARY_MYSQL_DSN": `u:p"a\ss${x}%{y}@tcp(127.0.0.1:3306)/db`,
		"MULTI":               "a\nb\tc\x01é",
		"DOLLAR":              "$$ $ ${",
	}
	spec := WorkerSpec{
		Worker: "render-test", Instances: 2, ArtifactURL: "http://127.0.0.1:1/f?x=${y}",
		ArtifactSHA256: strings.Repeat("ab", 32), FunctionVersion: `v"1"`, Env: env,
	}
	vars, err := spec.variables()
	if err != nil {
		t.Fatal(err)
	}
	job, err := s.render(t.Context(), vars)
	if err != nil {
		t.Fatalf("render: %v\nvariables:\n%s", err, vars)
	}
	if *job.ID != "tributary-render-test" || *job.TaskGroups[0].Count != 2 {
		t.Errorf("job %s count %d", *job.ID, *job.TaskGroups[0].Count)
	}
	task := job.TaskGroups[0].Tasks[0]
	for k, v := range env {
		if task.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, task.Env[k], v)
		}
	}
	if got := task.Env["TRIBUTARY_HTTP_ADDR"]; got != "127.0.0.1:${NOMAD_PORT_http}" {
		t.Errorf("TRIBUTARY_HTTP_ADDR = %q: the runtime reference must reach Nomad unresolved", got)
	}
	if got := *task.Artifacts[0].GetterSource; got != spec.ArtifactURL {
		t.Errorf("artifact source %q, want %q", got, spec.ArtifactURL)
	}
	if got := job.Meta["tributary_function_version"]; got != spec.FunctionVersion {
		t.Errorf("meta function version %q, want %q", got, spec.FunctionVersion)
	}
}

func TestSpecValidation(t *testing.T) {
	ok := WorkerSpec{Worker: "w", ArtifactURL: "http://x/f", ArtifactSHA256: strings.Repeat("0", 64)}
	for name, mutate := range map[string]func(*WorkerSpec){
		"empty worker":    func(s *WorkerSpec) { s.Worker = "" },
		"worker with /":   func(s *WorkerSpec) { s.Worker = "a/b" },
		"no artifact":     func(s *WorkerSpec) { s.ArtifactURL = "" },
		"short checksum":  func(s *WorkerSpec) { s.ArtifactSHA256 = "00" },
		"hex-less sum":    func(s *WorkerSpec) { s.ArtifactSHA256 = strings.Repeat("z", 64) },
		"negative counts": func(s *WorkerSpec) { s.Instances = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			spec := ok
			mutate(&spec)
			if _, err := spec.variables(); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("variables() = %v, want ErrInvalidSpec", err)
			}
		})
	}
	if _, err := ok.variables(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

func TestServiceName(t *testing.T) {
	long := strings.Repeat("a", 100)
	cases := map[string]string{
		"orders":           "tributary-orders",
		"enricher-2":       "tributary-enricher-2",
		"Orders":           "tributary-orders-",
		"a_b.c":            "tributary-a-b-c-",
		long:               "tributary-aaaa",
		"keep_test_e2e__x": "tributary-keep-test-e2e--x-",
	}
	seen := map[string]string{}
	for worker, prefix := range cases {
		got := ServiceName(worker)
		if !strings.HasPrefix(got, prefix) || len(got) > 63 || !regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`).MatchString(got) {
			t.Errorf("ServiceName(%q) = %q: want RFC 1123, at most 63, starting %q", worker, got, prefix)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share service %q", worker, other, got)
		}
		seen[got] = worker
	}
	if ServiceName("a_b") == ServiceName("a.b") {
		t.Error("a_b and a.b share a service name")
	}
}
