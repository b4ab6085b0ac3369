package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
)

// statusParallelism bounds the workers whose status (and metrics) one
// GET /pipelines/:id/status reads from Nomad and Kafka at once.
const statusParallelism = 8

// pipelineWorkerStatusJSON is one worker of GET /pipelines/:id/status: its
// status and, with ?metrics=true, what GET /workers/:id/metrics answers,
// so that the editor refreshes a whole pipeline with one request.
type pipelineWorkerStatusJSON struct {
	statusJSON
	// Metrics are the worker's lag, throughput and instances; null without
	// ?metrics=true, for a worker never deployed, or when its Kafka cluster
	// did not answer (MetricsError says why).
	Metrics      *metricsJSON `json:"metrics,omitempty"`
	MetricsError string       `json:"metrics_error,omitempty"`
}

// pipelineStatus answers the status of every worker of the pipeline, in
// the order of their ids, read concurrently. A Nomad failure fails the
// request; one worker's metrics failing only fills its metrics_error.
func (s *Server) pipelineStatus(c *gin.Context) {
	withMetrics := false
	if v, set := c.GetQuery("metrics"); set {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "metrics", "must be true or false"))
			return
		}
		withMetrics = b
	}
	ws, ok := s.pipelineWorkers(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	out := make([]pipelineWorkerStatusJSON, len(ws))
	errs := make([]error, len(ws))
	sem := make(chan struct{}, statusParallelism)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			st, nomad, err := s.status(ctx, w)
			out[i], errs[i] = pipelineWorkerStatusJSON{statusJSON: st}, err
			if err == nil && withMetrics && nomad != nil {
				out[i].Metrics, out[i].MetricsError = s.pipelineWorkerMetrics(ctx, w, nomad)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

// pipelineWorkerMetrics is GET /workers/:id/metrics for a worker whose
// Nomad status was just read, which it reuses for the allocation counts.
func (s *Server) pipelineWorkerMetrics(ctx context.Context, w apiserver.ConsumerConfig, st *scheduler.WorkerStatus) (*metricsJSON, string) {
	m := metricsJSON{Worker: w.ConsumerName, Warnings: []string{}, SampledAt: time.Now().UTC()}
	if err := s.kafkaMetrics(ctx, w, &m); err != nil {
		return nil, errorMessage(err)
	}
	s.throughputMetrics(ctx, w, &m)
	s.redisMetrics(ctx, w, &m)
	countAllocations(w, *st, &m)
	return &m, ""
}
