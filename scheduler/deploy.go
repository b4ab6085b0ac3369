package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

// WorkerSpec is everything the job template needs to run a worker. Zero
// values of the optional fields keep the template's defaults.
type WorkerSpec struct {
	Worker   string // consumer_name; the job is tributary-<Worker> (required)
	WorkerID string // id in the config store, kept in the job's meta
	// Owner names the installation (config store) the job belongs to, kept
	// in the job's meta; reconcilers with an Owner remove only their own.
	Owner          string
	Instances      int    // task group count; 0 means 1
	ArtifactURL    string // where Nomad downloads the function binary (required)
	ArtifactSHA256 string // hex sha256 of the binary (required)
	// Code is a Python function's module, run by the python runtime that
	// ArtifactURL names; zero for a Go function.
	Code Code

	FunctionName    string
	FunctionVersion string
	ConfigVersion   string // a change rolls the allocations

	Driver   string // "" keeps the template's (raw_exec)
	CPU      int    // MHz; 0 keeps the template's
	MemoryMB int    // 0 keeps the template's

	// Env is the runtime's environment: TRIBUTARY_TOPICS_INPUT,
	// TRIBUTARY_KAFKA_BROKERS, TRIBUTARY_REDIS_ADDR,
	// OTEL_EXPORTER_OTLP_ENDPOINT, ... It overrides the template's entries.
	// It is part of the job spec, which anyone who may read the job sees:
	// put passwords in Secrets.
	Env map[string]string
	// Secrets is environment the job spec must not carry (the worker's
	// MySQL DSN). Deploy writes it to the Nomad Variable
	// SecretsPath(job id) before it registers the job; the job's template
	// block renders it into the task's environment and restarts the task
	// when it changes. A key may not be in both Env and Secrets.
	Secrets map[string]string

	// MinHealthyTime is how long a new allocation must stay healthy before
	// a rollout continues; 0 keeps the template's.
	MinHealthyTime time.Duration
	// HealthyDeadline bounds how long an allocation may take to turn
	// healthy; 0 keeps the template's.
	HealthyDeadline time.Duration
	// ProgressDeadline is how long a rollout may go without a newly
	// healthy allocation before Nomad fails it (and reverts); 0 keeps the
	// template's. Nomad replaces unhealthy allocations until then, so this
	// is how long a broken version takes to be declared failed.
	ProgressDeadline time.Duration
}

// Code is where a Python worker's job downloads its module from.
type Code struct {
	URL     string // "" for a Go function
	SHA256  string // hex sha256 of the file
	Archive bool   // a .tar.gz with main.py, not one .py module
}

// DeployResult says what Nomad registered.
type DeployResult struct {
	JobID          string
	JobVersion     uint64 // the job version now current; unchanged if the spec was
	EvalID         string // the evaluation the registration created
	JobModifyIndex uint64
	Warnings       string // Nomad's registration warnings, if any
}

// Deploy renders spec through Nomad's parser and registers the job. A new
// worker is created; an existing one is updated as a rolling update (one
// allocation at a time, reverted automatically if it never turns healthy).
// Registration enforces the modify index Deploy read, so a concurrent change
// to the same job makes Deploy fail rather than overwrite it. Deploy returns
// once Nomad has accepted the job; use WaitHealthy to wait for the rollout.
func (s *Scheduler) Deploy(ctx context.Context, spec WorkerSpec) (DeployResult, error) {
	vars, err := spec.variables()
	if err != nil {
		return DeployResult{}, err
	}
	jobID := JobID(spec.Worker)
	job, err := s.render(ctx, vars)
	if err != nil {
		return DeployResult{}, fmt.Errorf("deploy %s: %w", jobID, err)
	}
	if job.ID == nil || *job.ID != jobID {
		return DeployResult{}, fmt.Errorf("deploy %s: the template rendered job id %v", jobID, job.ID)
	}
	// The reconciler tells a changed spec from an unchanged one by this hash.
	hash, err := s.specHash(spec)
	if err != nil {
		return DeployResult{}, err
	}
	if job.Meta == nil {
		job.Meta = map[string]string{}
	}
	job.Meta[MetaSpecHash] = hash
	if spec.Owner != "" {
		job.Meta[MetaOwner] = spec.Owner
	}
	// The variable first: the template of a new allocation waits for it,
	// and one written after the job would let it start without secrets.
	if len(spec.Secrets) > 0 {
		if _, err := s.writeSecrets(ctx, jobID, spec.Secrets); err != nil {
			return DeployResult{}, fmt.Errorf("deploy %s: %w", jobID, err)
		}
	}

	var index uint64
	cur, _, err := s.client.Jobs().Info(jobID, qopts(ctx, 0))
	switch {
	case isNotFound(err):
	case err != nil:
		return DeployResult{}, fmt.Errorf("deploy %s: read current job: %w", jobID, err)
	default:
		index = *cur.JobModifyIndex
	}

	resp, _, err := s.client.Jobs().RegisterOpts(job, &api.RegisterOptions{
		EnforceIndex: true,
		ModifyIndex:  index,
		// Keep the source, so `nomad job inspect` and the UI show what ran.
		Submission: &api.JobSubmission{Source: s.template, Format: "hcl2", Variables: vars},
	}, wopts(ctx))
	if err != nil {
		return DeployResult{}, fmt.Errorf("deploy %s: register: %w", jobID, err)
	}
	res := DeployResult{JobID: jobID, EvalID: resp.EvalID, JobModifyIndex: resp.JobModifyIndex, Warnings: resp.Warnings}
	if len(spec.Secrets) == 0 {
		// The job no longer reads a variable: a stale one would keep a
		// password Nomad no longer needs.
		if err := s.deleteSecrets(ctx, jobID); err != nil {
			return res, fmt.Errorf("deploy %s: %w", jobID, err)
		}
	}

	// The register response has no version: read the job at (or after) the
	// index it was written at.
	reg, _, err := s.client.Jobs().Info(jobID, qopts(ctx, resp.JobModifyIndex-1))
	if err != nil {
		return res, fmt.Errorf("deploy %s: read registered job: %w", jobID, err)
	}
	res.JobVersion = *reg.Version
	return res, nil
}

// ServiceName is the Nomad service name of a worker's health check: its job
// id made RFC 1123 (lower-case letters, digits and dashes, at most 63), as
// Nomad requires, while worker names may hold '.', '_' and 100 characters.
// Names that had to change, or be cut, end in 8 hex digits of a hash of the
// worker's name, so that two workers never share a service.
func ServiceName(worker string) string {
	id := JobID(worker)
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := b.String()
	if name == id && len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(worker))
	suffix := "-" + hex.EncodeToString(sum[:4])
	if len(name) > 63-len(suffix) {
		name = name[:63-len(suffix)]
	}
	return strings.TrimRight(name, "-") + suffix
}

// render asks Nomad to parse the template with the given variables. It
// calls the parse endpoint directly, not Jobs().ParseHCLOpts, because only
// the raw call takes a context.
func (s *Scheduler) render(ctx context.Context, vars string) (*api.Job, error) {
	req := &api.JobsParseRequest{JobHCL: s.template, Variables: vars, Canonicalize: true}
	var job api.Job
	if _, err := s.client.Raw().Write("/v1/jobs/parse", req, &job, wopts(ctx)); err != nil {
		return nil, fmt.Errorf("render job template: %w", err)
	}
	return &job, nil
}

// variables returns spec as the content of an HCL2 variables file for the
// template.
func (spec WorkerSpec) variables() (string, error) {
	if err := checkWorker(spec.Worker); err != nil {
		return "", err
	}
	if spec.ArtifactURL == "" {
		return "", fmt.Errorf("%w: worker %s: no artifact URL", ErrInvalidSpec, spec.Worker)
	}
	if !isHexSHA256(spec.ArtifactSHA256) {
		return "", fmt.Errorf("%w: worker %s: artifact sha256 %q is not 64 hex digits", ErrInvalidSpec, spec.Worker, spec.ArtifactSHA256)
	}
	if spec.Code.URL != "" && !isHexSHA256(spec.Code.SHA256) {
		return "", fmt.Errorf("%w: worker %s: code sha256 %q is not 64 hex digits", ErrInvalidSpec, spec.Worker, spec.Code.SHA256)
	}
	if spec.Instances < 0 {
		return "", fmt.Errorf("%w: worker %s: %d instances", ErrInvalidSpec, spec.Worker, spec.Instances)
	}
	if err := spec.checkSecrets(); err != nil {
		return "", err
	}
	for k := range spec.Secrets {
		if _, dup := spec.Env[k]; dup {
			return "", fmt.Errorf("%w: worker %s: %s is both in Env and in Secrets", ErrInvalidSpec, spec.Worker, k)
		}
	}
	instances := max(spec.Instances, 1)

	var b strings.Builder
	str := func(name, v string) { fmt.Fprintf(&b, "%s = %s\n", name, hclString(v)) }
	num := func(name string, v int) { fmt.Fprintf(&b, "%s = %d\n", name, v) }

	str("worker", spec.Worker)
	str("job_id", JobID(spec.Worker))
	str("service_name", ServiceName(spec.Worker))
	num("instances", instances)
	str("artifact_url", spec.ArtifactURL)
	str("artifact_sha256", strings.ToLower(spec.ArtifactSHA256))
	if spec.Code.URL != "" {
		str("code_url", spec.Code.URL)
		str("code_sha256", strings.ToLower(spec.Code.SHA256))
		fmt.Fprintf(&b, "code_archive = %t\n", spec.Code.Archive)
	}
	str("function_name", spec.FunctionName)
	str("function_version", spec.FunctionVersion)
	str("worker_id", spec.WorkerID)
	str("config_version", spec.ConfigVersion)
	if spec.Driver != "" {
		str("driver", spec.Driver)
	}
	if spec.CPU > 0 {
		num("cpu", spec.CPU)
	}
	if spec.MemoryMB > 0 {
		num("memory", spec.MemoryMB)
	}
	if spec.MinHealthyTime > 0 {
		str("min_healthy_time", spec.MinHealthyTime.String())
	}
	if spec.HealthyDeadline > 0 {
		str("healthy_deadline", spec.HealthyDeadline.String())
	}
	if spec.ProgressDeadline > 0 {
		str("progress_deadline", spec.ProgressDeadline.String())
	}
	// Only whether there are secrets, never their values: the variables
	// are stored with the job's submission.
	if len(spec.Secrets) > 0 {
		b.WriteString("secrets = true\n")
	}
	b.WriteString("env = {\n")
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		fmt.Fprintf(&b, "  %s = %s\n", hclString(k), hclString(spec.Env[k]))
	}
	b.WriteString("}\n")
	return b.String(), nil
}

func isHexSHA256(s string) bool {
	return len(s) == 64 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// hclString quotes s as an HCL2 string literal whose value is exactly s:
// besides the usual escapes, "${" and "%{" are doubled so that no value is
// ever read as a template.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
