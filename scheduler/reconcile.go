package scheduler

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// MetaSpecHash is the job meta key under which Deploy records the hash of
// the WorkerSpec (and the template) the job was rendered from. The
// reconciler compares it with the desired spec's hash to tell "changed"
// from "unchanged" without diffing Nomad's canonicalised job.
const MetaSpecHash = "tributary_spec_hash"

// MetaOwner is the job meta key holding WorkerSpec.Owner.
const MetaOwner = "tributary_owner"

// ReasonSecretsChanged is the reason of a reconcile action that rewrote a
// job's secrets variable and registered nothing: the job's template
// restarts its tasks with the new values.
const ReasonSecretsChanged = "spec changed: secrets rewritten, the tasks restart with them"

// ReconcileOptions narrow what a reconcile pass may touch.
type ReconcileOptions struct {
	// Prefix selects the Nomad jobs the pass owns, by job id; "" means
	// JobPrefix (every worker). Jobs outside it are never read, changed or
	// purged, and every desired worker's job id must start with it. Tests
	// sharing one agent use a prefix of their own.
	Prefix string
	// Owner, when set, limits removal to jobs whose meta names this owner
	// (WorkerSpec.Owner): several installations, or an installation and
	// the tests, can then share one Nomad cluster and prefix without
	// purging each other's jobs. "" removes any job under Prefix.
	Owner string
	// Log receives one record per action; nil means slog.Default().
	Log *slog.Logger
}

// ReconcileAction is what a pass did (or found) for one worker.
type ReconcileAction struct {
	Worker     string
	JobID      string
	Reason     string // why, in words: "job stopped out of band", "spec changed", ...
	JobVersion uint64 // the job version after the action (0 for removed or failed)
}

// ReconcileReport lists every worker a pass looked at, by outcome.
type ReconcileReport struct {
	Registered []ReconcileAction // missing, stopped, dead or changed: registered again
	Unchanged  []ReconcileAction // running the desired spec: left alone, no new version
	Removed    []ReconcileAction // no longer desired: stopped and purged
	Failed     []ReconcileAction // the action failed; Reason holds the error
}

// ReconcileWith makes the Nomad jobs selected by opts.Prefix match desired:
//   - a desired worker whose job is missing (never deployed, purged, or
//     lost with the agent's state), stopped (`nomad job stop`), dead, or
//     rendered from a different spec is registered with Deploy;
//   - a desired worker whose job runs the same spec (same MetaSpecHash, not
//     stopped) is left alone, so a pass with no change creates no job
//     version and no evaluation;
//   - a desired worker whose job runs the same spec but whose Secrets
//     differ from its variable has the variable rewritten (listed in
//     Registered with ReasonSecretsChanged, same job version);
//   - a job of a worker not in desired is stopped and purged, and its
//     secrets variable deleted.
//
// Instances is not part of the spec hash: the instance count belongs to
// Scale and the autoscaler once a job exists, so a count they changed is
// not a difference, and a job registered again (changed or stopped) keeps
// its live count. Only a missing job starts at spec.Instances.
//
// A failure on one worker does not stop the pass: it is listed in
// Report.Failed and the joined errors are returned with the report. Each
// action is logged. Concurrent passes over the same prefix are safe
// (Deploy enforces the modify index) but one may fail where the other won.
func (s *Scheduler) ReconcileWith(ctx context.Context, desired []WorkerSpec, opts ReconcileOptions) (ReconcileReport, error) {
	prefix := cmp.Or(opts.Prefix, JobPrefix)
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	var rep ReconcileReport

	want := map[string]WorkerSpec{}
	for _, spec := range desired {
		if err := checkWorker(spec.Worker); err != nil {
			return rep, fmt.Errorf("reconcile: %w", err)
		}
		id := JobID(spec.Worker)
		if !strings.HasPrefix(id, prefix) {
			return rep, fmt.Errorf("reconcile: %w: job %s is outside the prefix %q", ErrInvalidSpec, id, prefix)
		}
		if _, dup := want[id]; dup {
			return rep, fmt.Errorf("reconcile: %w: worker %s is desired twice", ErrInvalidSpec, spec.Worker)
		}
		want[id] = spec
	}

	stubs, _, err := s.client.Jobs().List((&api.QueryOptions{Prefix: prefix}).WithContext(ctx))
	if err != nil {
		return rep, fmt.Errorf("reconcile: list jobs %s*: %w", prefix, err)
	}
	live := map[string]bool{}
	for _, j := range stubs {
		live[j.ID] = true
	}

	var errs []error
	fail := func(worker, id string, err error) {
		rep.Failed = append(rep.Failed, ReconcileAction{Worker: worker, JobID: id, Reason: err.Error()})
		errs = append(errs, err)
		log.Error("reconcile failed", "worker", worker, "job", id, "err", err)
	}

	for _, id := range slices.Sorted(maps.Keys(want)) {
		spec := want[id]
		act, registered, err := s.reconcileOne(ctx, spec, live[id])
		if err != nil {
			fail(spec.Worker, id, err)
			continue
		}
		if registered {
			rep.Registered = append(rep.Registered, act)
			log.Info("reconcile: registered worker", "worker", act.Worker, "job", id, "reason", act.Reason, "job_version", act.JobVersion)
		} else {
			rep.Unchanged = append(rep.Unchanged, act)
			log.Debug("reconcile: worker unchanged", "worker", act.Worker, "job", id, "job_version", act.JobVersion)
		}
	}

	for _, j := range stubs {
		if _, ok := want[j.ID]; ok {
			continue
		}
		worker := strings.TrimPrefix(j.ID, JobPrefix)
		if opts.Owner != "" {
			mine, err := s.ownedBy(ctx, j.ID, opts.Owner)
			if err != nil {
				fail(worker, j.ID, err)
				continue
			}
			if !mine {
				continue
			}
		}
		_, _, err := s.client.Jobs().DeregisterOpts(j.ID, &api.DeregisterOptions{Purge: true}, wopts(ctx))
		if err != nil && !isNotFound(err) {
			fail(worker, j.ID, fmt.Errorf("reconcile: purge %s: %w", j.ID, err))
			continue
		}
		if err := s.deleteSecrets(ctx, j.ID); err != nil {
			fail(worker, j.ID, fmt.Errorf("reconcile: purge %s: %w", j.ID, err))
			continue
		}
		act := ReconcileAction{Worker: worker, JobID: j.ID, Reason: "worker no longer desired"}
		rep.Removed = append(rep.Removed, act)
		log.Info("reconcile: purged job", "worker", worker, "job", j.ID, "reason", act.Reason)
	}
	return rep, errors.Join(errs...)
}

// ownedBy reports whether job id carries owner in its meta. A job that
// vanished meanwhile is not owned.
func (s *Scheduler) ownedBy(ctx context.Context, id, owner string) (bool, error) {
	job, _, err := s.client.Jobs().Info(id, qopts(ctx, 0))
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reconcile: read %s: %w", id, err)
	}
	return job.Meta[MetaOwner] == owner, nil
}

// reconcileOne registers spec when its job needs it and says why.
func (s *Scheduler) reconcileOne(ctx context.Context, spec WorkerSpec, listed bool) (ReconcileAction, bool, error) {
	id := JobID(spec.Worker)
	act := ReconcileAction{Worker: spec.Worker, JobID: id}
	hash, err := s.specHash(spec)
	if err != nil {
		return act, false, err
	}

	var job *api.Job
	if listed {
		job, _, err = s.client.Jobs().Info(id, qopts(ctx, 0))
		switch {
		case isNotFound(err): // purged since the listing
			job = nil
		case err != nil:
			return act, false, fmt.Errorf("reconcile: read job %s: %w", id, err)
		}
	}

	switch {
	case job == nil:
		act.Reason = "job missing"
	case deref(job.Stop):
		act.Reason = "job stopped out of band"
	case deref(job.Status) == "dead":
		act.Reason = "job dead"
	case job.Meta[MetaSpecHash] == "":
		act.Reason = "job has no spec hash (registered by hand or by an older scheduler)"
	case job.Meta[MetaSpecHash] != hash:
		act.Reason = fmt.Sprintf("spec changed (hash %.12s -> %.12s)", job.Meta[MetaSpecHash], hash)
	default:
		act.JobVersion = deref(job.Version)
		// Secrets are not in the spec hash (it is in the job's meta), so a
		// changed one is found by reading the variable. Rewriting it is
		// the whole change: the template restarts the tasks with it, and
		// no new job version is needed.
		wrote := false
		if len(spec.Secrets) > 0 {
			wrote, err = s.writeSecrets(ctx, id, spec.Secrets)
			if err != nil {
				return act, false, fmt.Errorf("reconcile: %w", err)
			}
		}
		if wrote {
			act.Reason = ReasonSecretsChanged
			return act, true, nil
		}
		act.Reason = "running the desired spec"
		return act, false, nil
	}

	if job != nil {
		// Keep the count Scale or the autoscaler chose.
		if n, ok := groupCount(job); ok && n > 0 {
			spec.Instances = n
		}
	}
	res, err := s.Deploy(ctx, spec)
	if err != nil {
		return act, false, fmt.Errorf("reconcile (%s): %w", act.Reason, err)
	}
	act.JobVersion = res.JobVersion
	return act, true, nil
}

// specHash identifies what Deploy would render for spec, whatever its
// instance count: the template and the template variables, with Instances
// fixed at 1.
func (s *Scheduler) specHash(spec WorkerSpec) (string, error) {
	spec.Instances = 1
	vars, err := spec.variables()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(s.template))
	h.Write([]byte{0})
	h.Write([]byte(vars))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// groupCount is the count of the job's only task group.
func groupCount(job *api.Job) (int, bool) {
	if len(job.TaskGroups) != 1 || job.TaskGroups[0].Count == nil {
		return 0, false
	}
	return *job.TaskGroups[0].Count, true
}
