package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/controlplane"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/apiserver/replay"
)

// resetTimeout bounds a whole offset reset: stopping the job (NomadTimeout),
// waiting for the group to empty (replay.EmptyTimeout), committing and
// deploying again.
const resetTimeout = 2*controlplane.NomadTimeout + replay.EmptyTimeout + 30*time.Second

func (s *Server) mountOffsets(v1 *gin.RouterGroup) {
	v1.POST("/workers/:id/offsets", s.require(apiserver.RoleEditor), s.resetOffsets)
}

// offsetsInput is a reset of a worker's consumer group (replay.Request).
type offsetsInput struct {
	// To is "earliest", "latest", {"timestamp": "<RFC 3339>"} or
	// {"offsets": [{"topic", "partition", "offset"}]}.
	To              json.RawMessage `json:"to"`
	Stop            bool            `json:"stop,omitempty"`             // stop the running worker for the reset and deploy it again
	ClearTombstones bool            `json:"clear_tombstones,omitempty"` // let completed ids of a join be emitted again
	Reason          string          `json:"reason,omitempty"`           // why, for the event log
	DryRun          bool            `json:"dry_run,omitempty"`          // only say where the group is and would go
}

// toObject is the object form of offsetsInput.To.
type toObject struct {
	Timestamp *string             `json:"timestamp"`
	Offsets   []kafkaadmin.Offset `json:"offsets"`
}

func parseTo(raw json.RawMessage) (replay.To, error) {
	var to replay.To
	bad := func(field, format string, args ...any) (replay.To, error) {
		return to, apiserver.FieldErrorf(apiserver.CodeInvalid, field, format, args...)
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return bad("to", `is required: "earliest", "latest", {"timestamp": ...} or {"offsets": [...]}`)
	case raw[0] == '"':
		json.Unmarshal(raw, &to.Position)
		if to.Position != replay.Earliest && to.Position != replay.Latest {
			return bad("to", `must be "earliest" or "latest" when a string, not %q`, to.Position)
		}
		return to, nil
	case raw[0] != '{':
		return bad("to", `must be a string or an object`)
	}
	var obj toObject
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		if e, ok := jsonError(err).(*apiserver.Error); ok && e.Field != "" {
			e.Field = "to." + e.Field
			return to, e
		}
		return bad("to", "%v", err)
	}
	switch {
	case (obj.Timestamp == nil) == (len(obj.Offsets) == 0):
		return bad("to", "set exactly one of timestamp and offsets")
	case obj.Timestamp != nil:
		at, err := time.Parse(time.RFC3339Nano, *obj.Timestamp)
		if err != nil {
			return bad("to.timestamp", "must be an RFC 3339 time such as 2026-12-01T09:30:00Z")
		}
		to.At = at
		return to, nil
	}
	for i, o := range obj.Offsets {
		if o.Partition < 0 {
			return bad(fmt.Sprintf("to.offsets[%d].partition", i), "must be 0 or more")
		}
		if o.Offset < 0 {
			return bad(fmt.Sprintf("to.offsets[%d].offset", i), "must be 0 or more")
		}
	}
	to.Offsets = obj.Offsets
	return to, nil
}

// resetOffsets moves the worker's consumer group (package replay): 409
// while its members are active unless stop is true.
func (s *Server) resetOffsets(c *gin.Context) {
	w, ok := s.worker(c)
	if !ok {
		return
	}
	var in offsetsInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	to, err := parseTo(in.To)
	if err != nil {
		s.fail(c, err)
		return
	}
	if in.Stop && !s.need(c, s.sched != nil, "Nomad") || in.ClearTombstones && !s.need(c, s.redis != nil, "Redis") {
		return
	}
	kc, err := workerKafka(w)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(c.Request.Context(), resetTimeout)
	defer cancel()
	clear := func(ctx context.Context) (int, error) { return replay.ClearTombstones(ctx, s.redis, w.ConsumerName) }
	req := replay.Request{Group: w.ConsumerName, Topics: w.TopicsInput, To: to, Stop: in.Stop, ClearTombstones: in.ClearTombstones, DryRun: in.DryRun}
	res, err := replay.Reset(ctx, kc, workerJob{s, w, actorName(c)}, clear, req)
	if res.To != nil && !res.DryRun { // committed: the reset happened, whatever failed after
		s.record(c, events.ActionOffsetReset, w.ID, res.From, res.To, in.Reason)
	}
	if err != nil {
		s.fail(c, s.kafkaOpError(err))
		return
	}
	c.JSON(http.StatusOK, res)
}

// workerJob is a worker's Nomad job, driven through the control plane as
// the deploy and stop routes drive it, on behalf of actor.
type workerJob struct {
	s     *Server
	w     apiserver.ConsumerConfig
	actor string
}

// Stop refuses a worker Tributary does not run: the group's members are
// then consumers outside its Nomad jobs, which stopping (and, after the
// reset, deploying) the job would not remove but start a second copy of.
func (j workerJob) Stop(ctx context.Context) error {
	if j.w.DesiredState != apiserver.DesiredRunning {
		return apiserver.FieldErrorf(apiserver.CodeConflict, "stop",
			"worker %s is not deployed (desired state %s), so its group's members are not its jobs: stop those consumers first",
			j.w.ConsumerName, j.w.DesiredState)
	}
	return j.s.plane.Stop(ctx, j.w, j.actor)
}

func (j workerJob) Start(ctx context.Context) error {
	_, err := j.s.plane.Deploy(ctx, j.w, j.actor)
	return err
}
