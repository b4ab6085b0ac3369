package httpapi

import (
	"context"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// healthListTimeout bounds the Nomad list behind the pipelines' health:
// a slow Nomad leaves the health out of the list rather than holding it.
const healthListTimeout = 2 * time.Second

// pipelineHealthJSON sums up a pipeline's workers for the list of
// pipelines. It is null when the server has no Nomad or Nomad did not
// answer in time.
type pipelineHealthJSON struct {
	Deployed int `json:"deployed"` // workers the reconciler keeps running (desired state running)
	// Healthy are the deployed workers with as many allocations running
	// and judged healthy by their deployment as they want instances.
	Healthy int `json:"healthy"`
}

// pipelinesHealth reads every worker from MySQL and every worker job's
// healthy allocations from Nomad, one request each however many
// pipelines there are (scheduler.HealthyCounts), and sums them up by
// pipeline. It returns nil when Nomad is missing or did not answer.
func (s *Server) pipelinesHealth(ctx context.Context) (map[int64]*pipelineHealthJSON, error) {
	if s.sched == nil {
		return nil, nil
	}
	ws, err := s.db.Workers(ctx, 0)
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithTimeout(ctx, healthListTimeout)
	defer cancel()
	healthy, err := s.sched.HealthyCounts(nctx)
	if err != nil {
		s.log.WarnContext(ctx, "pipelines' health left out: Nomad did not answer", "err", err)
		return nil, nil
	}
	out := map[int64]*pipelineHealthJSON{}
	for _, w := range ws {
		if w.PipelineID == 0 {
			continue
		}
		h := out[w.PipelineID]
		if h == nil {
			h = &pipelineHealthJSON{}
			out[w.PipelineID] = h
		}
		if w.DesiredState != apiserver.DesiredRunning {
			continue
		}
		h.Deployed++
		if healthy[w.ConsumerName] >= w.Instances {
			h.Healthy++
		}
	}
	return out, nil
}
