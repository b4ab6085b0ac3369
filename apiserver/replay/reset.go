package replay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// Kafka is what a reset needs of the cluster; *kafkaadmin.Admin is one.
type Kafka interface {
	Describe(ctx context.Context, group string) (kafkaadmin.Group, error)
	Earliest(ctx context.Context, topics []string) ([]kafkaadmin.Offset, error)
	Latest(ctx context.Context, topics []string) ([]kafkaadmin.Offset, error)
	After(ctx context.Context, t time.Time, topics []string) ([]kafkaadmin.Offset, error)
	Committed(ctx context.Context, group string, topics []string) ([]kafkaadmin.Offset, error)
	Commit(ctx context.Context, group string, offs []kafkaadmin.Offset) error
}

var _ Kafka = (*kafkaadmin.Admin)(nil)

// Job stops and starts the worker's Nomad job, recording its desired
// state as the deploy and stop routes do.
type Job interface {
	Stop(ctx context.Context) error
	Start(ctx context.Context) error
}

// Positions a reset can go to besides a time and explicit offsets.
const (
	Earliest = "earliest"
	Latest   = "latest"
)

// To is where a reset goes: Position, or At, or Offsets (exactly one).
type To struct {
	Position string
	At       time.Time
	Offsets  []kafkaadmin.Offset // only these partitions; the others keep their position
}

// Request is one reset of a worker's group.
type Request struct {
	Group           string   // the worker's consumer group
	Topics          []string // its input topics
	To              To
	Stop            bool // stop the job while members are active, then deploy it again
	ClearTombstones bool // delete the worker's tombstones while it is stopped (see the package doc)
	// DryRun resolves the target and reads the commits, and does nothing
	// else: the answer says where the group is and where it would go.
	DryRun bool
}

// ResetResult says what a reset did.
type ResetResult struct {
	From              []kafkaadmin.Offset `json:"from"` // committed before, where there was a commit
	To                []kafkaadmin.Offset `json:"to"`
	Stopped           bool                `json:"stopped"`    // the job was stopped for the reset...
	Redeployed        bool                `json:"redeployed"` // ...and deployed again
	TombstonesCleared *int                `json:"tombstones_cleared"`
	DryRun            bool                `json:"dry_run,omitempty"` // nothing was done: To is where the group would go now
}

// ErrActive is a group with members when the request did not allow
// stopping the worker.
var ErrActive = errors.New("the consumer group has active members")

// EmptyTimeout bounds the wait for the group to empty after the job was
// stopped: a worker leaves its group on SIGTERM within its 20-s shutdown,
// and the coordinator drops a member that did not after its session
// timeout.
const EmptyTimeout = 90 * time.Second

// pollEvery is how often the group is described while it empties.
const pollEvery = 250 * time.Millisecond

// Reset moves req.Group to req.To (see the package doc). clear deletes the
// worker's tombstones; it is called only with ClearTombstones. A job this
// call stopped is deployed again even when a later step failed, so a
// failed reset never leaves a worker stopped that was running.
func Reset(ctx context.Context, kc Kafka, job Job, clear func(context.Context) (int, error), req Request) (res ResetResult, err error) {
	// Resolve the target once before touching the job, so that a bad
	// request (a topic that does not exist) stops nothing.
	to, err := target(ctx, kc, req)
	if err != nil {
		return res, err
	}
	if req.DryRun {
		if res.From, err = kc.Committed(ctx, req.Group, req.Topics); err != nil {
			return res, err
		}
		res.To, res.DryRun = to, true
		return res, nil
	}
	g, err := kc.Describe(ctx, req.Group)
	if err != nil {
		return res, err
	}
	if g.Members > 0 {
		if !req.Stop {
			return res, &apiserver.Error{Code: apiserver.CodeConflict, Field: "stop", Err: ErrActive, Message: fmt.Sprintf(
				"consumer group %s has %d active members: stop the worker first, or send \"stop\": true to have it stopped and deployed again", req.Group, g.Members)}
		}
		if err := job.Stop(ctx); err != nil {
			return res, fmt.Errorf("stop the worker: %w", err)
		}
		res.Stopped = true
		defer func() {
			// The job comes back whatever happened after it was stopped.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if serr := job.Start(sctx); serr != nil {
				err = errors.Join(err, fmt.Errorf("deploy the worker again: %w", serr))
				return
			}
			res.Redeployed = true
		}()
		if err := waitEmpty(ctx, kc, req.Group); err != nil {
			return res, err
		}
	}
	// Resolved again now that nothing consumes: "latest" means the end
	// when the worker stopped, not when the request arrived.
	to, err = target(ctx, kc, req)
	if err != nil {
		return res, err
	}
	if res.From, err = kc.Committed(ctx, req.Group, req.Topics); err != nil {
		return res, err
	}
	if err := kc.Commit(ctx, req.Group, to); err != nil {
		return res, fmt.Errorf("commit the new offsets: %w", err)
	}
	res.To = to
	if req.ClearTombstones {
		n, err := clear(ctx)
		if err != nil {
			return res, err
		}
		res.TombstonesCleared = &n
	}
	return res, nil
}

// target is the offsets req.To names.
func target(ctx context.Context, kc Kafka, req Request) ([]kafkaadmin.Offset, error) {
	switch {
	case len(req.To.Offsets) > 0:
		for i, o := range req.To.Offsets {
			if !slices.Contains(req.Topics, o.Topic) {
				return nil, apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("to.offsets[%d].topic", i),
					"%q is not an input topic of the worker", o.Topic)
			}
		}
		// Every named partition must exist; the latest offsets list them.
		all, err := kc.Latest(ctx, req.Topics)
		if err != nil {
			return nil, topicsError(err)
		}
		for i, o := range req.To.Offsets {
			if !slices.ContainsFunc(all, func(a kafkaadmin.Offset) bool { return a.Topic == o.Topic && a.Partition == o.Partition }) {
				return nil, apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("to.offsets[%d].partition", i),
					"topic %s has no partition %d", o.Topic, o.Partition)
			}
		}
		return req.To.Offsets, nil
	case req.To.Position == Earliest:
		offs, err := kc.Earliest(ctx, req.Topics)
		return offs, topicsError(err)
	case req.To.Position == Latest:
		offs, err := kc.Latest(ctx, req.Topics)
		return offs, topicsError(err)
	case !req.To.At.IsZero():
		offs, err := kc.After(ctx, req.To.At, req.Topics)
		return offs, topicsError(err)
	}
	return nil, apiserver.FieldErrorf(apiserver.CodeInvalid, "to", `must be "earliest", "latest", {"timestamp": RFC 3339} or {"offsets": [...]}`)
}

// topicsError names an input topic the cluster does not have as the
// request's fault: there is nothing to reset on it.
func topicsError(err error) error {
	if errors.Is(err, kafkaadmin.ErrUnknownTopic) {
		return &apiserver.Error{Code: apiserver.CodeInvalid, Field: "to", Message: "the worker's input topics must exist: " + err.Error(), Err: err}
	}
	return err
}

// waitEmpty polls the group until it has no members, for EmptyTimeout.
func waitEmpty(ctx context.Context, kc Kafka, group string) error {
	ctx, cancel := context.WithTimeout(ctx, EmptyTimeout)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		g, err := kc.Describe(ctx, group)
		if err == nil && g.Members == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return &apiserver.Error{Code: apiserver.CodeUnavailable, Err: ctx.Err(), Message: fmt.Sprintf(
				"consumer group %s still had members %s after the worker was stopped (last: %v members, %v); the job is deployed again",
				group, EmptyTimeout, g.Members, err)}
		case <-tick.C:
		}
	}
}
