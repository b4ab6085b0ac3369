// Package scheduler runs Tributary workers as Nomad jobs: one service job per
// worker, rendered from the HCL2 template jobs/worker.nomad.hcl through
// Nomad's own parser, deployed, scaled, stopped and observed through the
// Nomad HTTP API. Every wait is a blocking query (WaitIndex), never a sleep.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"

	"github.com/hashicorp/nomad/api"
)

// JobPrefix starts the Nomad job id of every worker, so that the jobs read
// well in `nomad job status`.
const JobPrefix = "tributary-"

var (
	// ErrNotFound means Nomad has no job (or allocation) for the worker.
	ErrNotFound = errors.New("not found")
	// ErrInvalidSpec means a WorkerSpec cannot be rendered into a job.
	ErrInvalidSpec = errors.New("invalid worker spec")
	// ErrDeploymentFailed means Nomad gave up on a deployment; the error
	// text carries Nomad's reason and the failing allocations' task events.
	ErrDeploymentFailed = errors.New("deployment failed")
)

// Scheduler deploys and observes workers on one Nomad cluster. It holds no
// state besides the client and the job template, so it is safe for
// concurrent use; the caller serialises changes to the same worker (Deploy
// enforces the job's modify index, so a lost race fails instead of
// overwriting).
type Scheduler struct {
	client   *api.Client
	template string // HCL2 source of the worker job
}

// New returns a Scheduler using client and the worker job template read from
// templatePath (jobs/worker.nomad.hcl of the repository). The template is
// read once, here; it is parsed by Nomad on every Deploy.
func New(client *api.Client, templatePath string) (*Scheduler, error) {
	if client == nil {
		return nil, errors.New("scheduler: nil Nomad client")
	}
	src, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("scheduler: read job template: %w", err)
	}
	return &Scheduler{client: client, template: string(src)}, nil
}

// JobID is the Nomad job id of a worker.
func JobID(worker string) string { return JobPrefix + worker }

// validWorker keeps names usable as a Nomad job id, a service name and a
// Kafka consumer group.
var validWorker = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func checkWorker(worker string) error {
	if !validWorker.MatchString(worker) {
		return fmt.Errorf("%w: worker name %q: want letters, digits, '.', '_' or '-'", ErrInvalidSpec, worker)
	}
	return nil
}

// isNotFound reports whether err is Nomad's 404.
func isNotFound(err error) bool {
	var ue api.UnexpectedResponseError
	return errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound
}

// wopts and qopts bind a call to ctx, so cancelling it aborts the request
// (including a blocking query).
func wopts(ctx context.Context) *api.WriteOptions { return (&api.WriteOptions{}).WithContext(ctx) }

func qopts(ctx context.Context, waitIndex uint64) *api.QueryOptions {
	return (&api.QueryOptions{WaitIndex: waitIndex}).WithContext(ctx)
}

// Ping checks that the Nomad agent answers a cheap query (one job,
// stale reads allowed) within ctx.
func (s *Scheduler) Ping(ctx context.Context) error {
	q := qopts(ctx, 0)
	q.PerPage, q.AllowStale = 1, true
	if _, _, err := s.client.Jobs().List(q); err != nil {
		return fmt.Errorf("nomad: %w", err)
	}
	return nil
}
