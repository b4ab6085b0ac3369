package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// Functions are the demo's Go functions, folders of functions/.
var Functions = []string{"raw-data", "language-detector", "summarizer", "enricher"}

// PythonFunctions are the demo's Python functions, by the module file
// uploaded, in functions/. They run on the python runtime, which
// RegisterFunctions builds and registers with them.
var PythonFunctions = map[string]string{"keywords": "keywords/main.py"}

// pythonRuntime is the function (functions/python) that runs Python ones;
// the API server runs its newest version.
const pythonRuntime = "python"

// Options name a copy of the demo. The demo `make up` deploys uses the
// zero prefix; tests use a private one.
type Options struct {
	Repo      string    // the repository root (functions/ is built from it)
	Functions []string  // the functions RegisterFunctions builds; nil means Functions, the python runtime and PythonFunctions
	Prefix    string    // put before every worker, topic and pipeline name
	Progress  io.Writer // progress lines; nil: none
}

func (o Options) say(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "    "+format+"\n", args...)
	}
}

// Topics of the demo, without prefix.
const (
	TopicRaw        = "documents.raw"
	TopicNormalized = "documents.normalized"
	TopicLanguage   = "documents.language"
	TopicSummary    = "documents.summary"
	TopicEnriched   = "documents.enriched"
	TopicKeywords   = "documents.keywords"
)

// EnsureCluster registers the local broker as cluster "local" unless a
// cluster exists, and returns the first cluster's id.
func EnsureCluster(ctx context.Context, c *Client, bootstrap string) (int64, error) {
	var cs []struct {
		ID int64 `json:"id"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/clusters", nil, &cs); err != nil {
		return 0, err
	}
	if len(cs) > 0 {
		return cs[0].ID, nil
	}
	var created struct {
		ID int64 `json:"id"`
	}
	err := c.Do(ctx, "POST", "/api/v1/clusters", map[string]any{"name": "local", "bootstrap_servers": []string{bootstrap}}, &created)
	return created.ID, err
}

// RegisterFunctions builds each demo function and registers it under a
// version named after its content ("dev-" and 12 hex digits of the
// sha256 of its file and its describe output), so an unchanged function
// is not uploaded again and a changed one, or one whose settings schema
// changed, gets a new version. It returns the versions by function.
func RegisterFunctions(ctx context.Context, c *Client, o Options) (map[string]string, error) {
	dir, err := os.MkdirTemp("", "tributary-demo")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	versions := map[string]string{}
	fns, python := o.Functions, map[string]string{}
	if fns == nil {
		fns, python = append(slices.Clone(Functions), pythonRuntime), PythonFunctions
	}
	for _, fn := range fns {
		bin := filepath.Join(dir, fn)
		start := time.Now()
		// No VCS stamp: the version then changes only when the function does.
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./functions/"+fn)
		cmd.Dir = o.Repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", fn, err, out)
		}
		// The binary's -describe output declares its settings' schema,
		// which the API checks workers' metadata against at save.
		describe, err := exec.CommandContext(ctx, bin, "-describe").Output()
		if err != nil {
			return nil, fmt.Errorf("%s -describe: %w", fn, err)
		}
		if versions[fn], err = register(ctx, c, o, fn, bin, fn, describe, "built and registered", start); err != nil {
			return nil, err
		}
	}
	for _, fn := range slices.Sorted(maps.Keys(python)) {
		path := filepath.Join(o.Repo, "functions", python[fn])
		// A Python function's settings schema is the describe.json beside
		// its module, written by hand: the API never runs uploaded code.
		describe, err := os.ReadFile(filepath.Join(filepath.Dir(path), "describe.json"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if versions[fn], err = register(ctx, c, o, fn, path, filepath.Base(path), describe, "registered", time.Now()); err != nil {
			return nil, err
		}
	}
	return versions, nil
}

// register uploads the file at path as function fn, under filename, with
// its describe output (nil: none), as a version named after both, and
// returns that version.
func register(ctx context.Context, c *Client, o Options, fn, path, filename string, describe []byte, done string, start time.Time) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	size, _ := io.Copy(h, f)
	h.Write(describe)
	version := "dev-" + hex.EncodeToString(h.Sum(nil))[:12]
	if c.registeredWithoutFile(ctx, fn, version) {
		// The database lists it but its file is gone (a data directory
		// lost or moved): register the same bytes under a new version.
		version += "-" + time.Now().UTC().Format("20060102150405")
	}
	f.Seek(0, io.SeekStart)
	err = c.Upload(ctx, fn, version, filename, f, describe)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == 409:
		o.say("function %s %s: registered already", fn, version)
	case err != nil:
		return "", fmt.Errorf("upload %s: %w", fn, err)
	default:
		o.say("function %s %s: %s (%d KB, %s)", fn, version, done, size>>10, time.Since(start).Round(time.Second))
	}
	return version, nil
}

// Graph is the demo pipeline: raw-data normalizes documents.raw; the
// language-detector and the summarizer read its output in parallel; the
// enricher joins their two outputs by id into documents.enriched. The
// Python keywords function reads the normalized documents too, into
// documents.keywords, when it was registered.
func Graph(o Options, versions map[string]string, cluster int64) map[string]any {
	p := o.Prefix
	topic := func(id, name string) map[string]any { return map[string]any{"id": id, "name": p + name} }
	worker := func(fn string, in, out []string, meta map[string]any) map[string]any {
		return map[string]any{"id": fn, "name": p + fn, "input_topics": in, "output_topics": out,
			"function": fn, "function_version": versions[fn], "cluster_id": cluster, "metadata": meta, "timeout_seconds": 120}
	}
	topics := []any{topic("raw", TopicRaw), topic("normalized", TopicNormalized), topic("language", TopicLanguage),
		topic("summary", TopicSummary), topic("enriched", TopicEnriched)}
	workers := []any{
		worker("raw-data", []string{"raw"}, []string{"normalized"}, nil),
		worker("language-detector", []string{"normalized"}, []string{"language"}, nil),
		worker("summarizer", []string{"normalized"}, []string{"summary"}, map[string]any{"max_sentences": 2}),
		worker("enricher", []string{"language", "summary"}, []string{"enriched"}, nil),
	}
	if versions["keywords"] != "" {
		// Node ids are one namespace: the topic is not "keywords", the worker's id.
		topics = append(topics, topic("keyword-list", TopicKeywords))
		workers = append(workers, worker("keywords", []string{"normalized"}, []string{"keyword-list"}, map[string]any{"max_keywords": 5}))
	}
	return map[string]any{"topics": topics, "workers": workers,
		"layout": map[string]any{"direction": "LR", "node_sep": 50, "rank_sep": 90}}
}

// Pipeline is what the API answers about a saved pipeline.
type Pipeline struct {
	ID        int64            `json:"id"`
	Version   int              `json:"version"`
	WorkerIDs map[string]int64 `json:"worker_ids"`
}

// SavePipeline creates the pipeline named name, or replaces its graph.
func SavePipeline(ctx context.Context, c *Client, name string, graph map[string]any) (Pipeline, error) {
	var list []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/pipelines", nil, &list); err != nil {
		return Pipeline{}, err
	}
	var p Pipeline
	for _, l := range list {
		if l.Name == name {
			err := c.Do(ctx, "PUT", fmt.Sprintf("/api/v1/pipelines/%d", l.ID), map[string]any{"name": name, "graph": graph}, &p)
			return p, err
		}
	}
	err := c.Do(ctx, "POST", "/api/v1/pipelines", map[string]any{"name": name, "graph": graph}, &p)
	return p, err
}

// Status is the part of a worker's status the demo waits on.
type Status struct {
	Worker     string `json:"worker"`
	Healthy    int    `json:"healthy"`
	Desired    int    `json:"desired"`
	Deployment *struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"deployment"`
	PlacementFailures []string `json:"placement_failures"`
}

// DeployAndWait deploys the pipeline and waits until every worker has all
// its allocations healthy, printing progress, or fails with Nomad's reason.
func DeployAndWait(ctx context.Context, c *Client, p Pipeline, o Options) error {
	var res []struct {
		Worker string `json:"worker"`
		Error  string `json:"error"`
	}
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/pipelines/%d/deploy", p.ID), nil, &res); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	for _, r := range res {
		if r.Error != "" {
			return fmt.Errorf("deploy %s: %s", r.Worker, r.Error)
		}
	}
	start, last := time.Now(), ""
	for {
		var sts []Status
		if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/pipelines/%d/status", p.ID), nil, &sts); err != nil {
			return err
		}
		ready, line := 0, ""
		for _, s := range sts {
			line += fmt.Sprintf(" %s %d/%d", s.Worker, s.Healthy, s.Desired)
			if s.Deployment != nil && s.Deployment.Status == "failed" {
				return fmt.Errorf("worker %s: Nomad: %s", s.Worker, s.Deployment.Description)
			}
			if len(s.PlacementFailures) > 0 {
				return fmt.Errorf("worker %s: Nomad: %s", s.Worker, s.PlacementFailures[0])
			}
			if s.Desired > 0 && s.Healthy >= s.Desired {
				ready++
			}
		}
		if line != last {
			o.say("healthy allocations after %s:%s", time.Since(start).Round(time.Second), line)
			last = line
		}
		if ready == len(sts) && len(sts) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the demo's workers: %w (last:%s)", ctx.Err(), line)
		case <-time.After(time.Second):
		}
	}
}
