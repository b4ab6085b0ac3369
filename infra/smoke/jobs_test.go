package smoke

// TestControlPlaneJobs: the jobs that put Tributary's control plane on an
// existing Nomad cluster (jobs/*.nomad.hcl beside the worker template)
// parse and validate with the real Nomad CLI against the stack's agent, as
// `nomad job validate` would for a user; the API server's job gives the
// server only settings it reads, and no secret.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// controlPlaneJobs are the jobs a user runs, with the variables that have
// no default.
var controlPlaneJobs = map[string][]string{
	"jobs/apiserver.nomad.hcl":  {"image=registry.example.com/tributary-apiserver:1.0", "redis_addr=redis.example.com:6379"},
	"jobs/prometheus.nomad.hcl": nil,
	"jobs/jaeger.nomad.hcl":     nil,
}

func TestControlPlaneJobs(t *testing.T) {
	bin := os.Getenv("TRIBUTARY_NOMAD_BIN")
	if _, err := exec.LookPath(bin); bin == "" || err != nil {
		stacktest.Unavailable(t, "the Nomad binary (TRIBUTARY_NOMAD_BIN from infra/stack.sh env)", fmt.Errorf("%q: %v", bin, err))
	}
	settings := map[string]bool{"NOMAD_TOKEN": true} // read by nomad/api's DefaultConfig
	for _, v := range config.Vars {
		settings[v.Name] = true
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "jobs", "*.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		if _, ok := controlPlaneJobs[rel]; !ok && rel != "jobs/worker.nomad.hcl" {
			t.Errorf("%s: not in controlPlaneJobs, so nothing validates it", rel)
		}
	}
	for file, vars := range controlPlaneJobs {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var args []string
			for _, v := range vars {
				args = append(args, "-var", v)
			}
			// From the repository root, as docs/operating.md runs them
			// (file() paths are relative to it).
			nomadCmd := func(sub ...string) []byte {
				t.Helper()
				cmd := exec.Command(bin, append(append(sub, args...), file)...)
				cmd.Dir = repoRoot
				cmd.Env = append(os.Environ(), "NOMAD_ADDR="+stacktest.NomadAddr())
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("nomad %s %s: %v\n%s", strings.Join(sub, " "), file, err, out)
				}
				return out
			}
			if out := nomadCmd("job", "validate"); !strings.Contains(string(out), "Job validation successful") {
				t.Fatalf("nomad job validate: %s", out)
			}
			var wrapped struct{ Job nomad.Job }
			if err := json.Unmarshal(nomadCmd("job", "run", "-output"), &wrapped); err != nil {
				t.Fatal(err)
			}
			job := wrapped.Job
			if !strings.HasPrefix(*job.ID, "tributary-") {
				t.Errorf("job id %q: want tributary-*", *job.ID)
			}
			for _, g := range job.TaskGroups {
				for _, task := range g.Tasks {
					if img, _ := task.Config["image"].(string); strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
						t.Errorf("task %s: image %q is not pinned to a version", task.Name, img)
					}
					if *job.ID != "tributary-apiserver" {
						continue
					}
					names := slices.Collect(func(yield func(string) bool) {
						for k := range task.Env {
							yield(k)
						}
						for _, tpl := range task.Templates {
							if tpl.Envvars != nil && *tpl.Envvars {
								for _, m := range envLineRE.FindAllStringSubmatch(*tpl.EmbeddedTmpl, -1) {
									yield(m[1])
								}
							}
						}
					})
					for _, n := range names {
						if !settings[n] {
							t.Errorf("task %s: %s is not an API server setting", task.Name, n)
						}
					}
					for _, secret := range []string{"TRIBUTARY_JWT_SECRET", "TRIBUTARY_MYSQL_DSN", "TRIBUTARY_ALERTMANAGER_TOKEN"} {
						if _, inEnv := task.Env[secret]; inEnv || !slices.Contains(names, secret) {
							t.Errorf("task %s: %s must come from the Nomad Variable template, not the job's env", task.Name, secret)
						}
					}
				}
			}
		})
	}
}

// envLineRE finds NAME= at a line's start (or after a template action) in
// a template rendered as environment.
var envLineRE = regexp.MustCompile(`(?m)(?:^|\}\})\s*([A-Z][A-Z0-9_]*)=`)
