package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/apiserver/monitor"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/worker"
)

func (s *Server) mountMonitoring(v1 *gin.RouterGroup) {
	viewer := s.require(apiserver.RoleViewer)
	v1.GET("/workers/:id/metrics", viewer, s.workerMetrics)
	v1.GET("/clusters/:id/groups", viewer, s.clusterGroups)
}

// partLagJSON is the worker's group on one input partition.
type partLagJSON struct {
	Topic         string `json:"topic"`
	Partition     int    `json:"partition"`
	Committed     int64  `json:"committed"` // -1: nothing committed yet
	HighWatermark int64  `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

type lagJSON struct {
	Total      int64            `json:"total"`
	ByTopic    map[string]int64 `json:"by_topic"`
	Partitions []partLagJSON    `json:"partitions"` // by topic, then partition
}

type instancesJSON struct {
	Heartbeats         *int               `json:"heartbeats"`          // null without Redis
	AllocationsRunning *int               `json:"allocations_running"` // null without Nomad
	AllocationsDesired *int               `json:"allocations_desired"` // null without Nomad
	Alive              []monitor.Instance `json:"alive"`               // null without Redis
}

type deadLetterTopicJSON struct {
	Topic   string `json:"topic"`
	Records int64  `json:"records"` // ever written to it, by any worker using it
}

// metricsJSON answers GET /workers/:id/metrics. The sections read from
// Redis or Nomad are null when the server has no Redis or Nomad, or when
// they did not answer; Warnings says which and why.
type metricsJSON struct {
	Worker            string                `json:"worker"`
	Lag               lagJSON               `json:"lag"`
	Throughput        throughput.Throughput `json:"throughput"`
	Instances         instancesJSON         `json:"instances"`
	PendingAggregates *int64                `json:"pending_aggregates"`
	Expired           *float64              `json:"expired"`       // summed over live instances, since each started
	DeadLettered      *float64              `json:"dead_lettered"` // likewise
	DeadLetterTopic   deadLetterTopicJSON   `json:"dead_letter_topic"`
	Errors            []monitor.ErrorEntry  `json:"errors"`
	Warnings          []string              `json:"warnings"`
	SampledAt         time.Time             `json:"sampled_at"`
}

// sideTimeout bounds the throughput, Redis and Nomad parts of the
// metrics: they only add warnings when slow, so they must not hold the
// answer long.
const sideTimeout = 3 * time.Second

// workerMetrics answers how a worker is doing. Lag comes from its Kafka
// cluster, which must answer within cfg.KafkaTimeout (503 otherwise).
// Throughput comes from the server's throughput.Reader (Prometheus, or the
// sampler, whose first answer about a worker has no window yet), the same
// whoever asks and however often.
func (s *Server) workerMetrics(c *gin.Context) {
	w, ok := s.monitoredWorker(c)
	if !ok {
		return
	}
	out := metricsJSON{Worker: w.ConsumerName, Warnings: []string{}, SampledAt: time.Now().UTC()}
	if err := s.kafkaMetrics(c.Request.Context(), w, &out); err != nil {
		s.fail(c, err)
		return
	}
	s.throughputMetrics(c.Request.Context(), w, &out)
	s.redisMetrics(c.Request.Context(), w, &out)
	s.allocationMetrics(c.Request.Context(), w, &out)
	c.JSON(http.StatusOK, out)
}

func (s *Server) kafkaMetrics(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) error {
	out.DeadLetterTopic.Topic = deadletter.Topic(w)
	var lag []kafkaadmin.PartitionLag
	var missing []string
	ends, err := kafkaDo(ctx, s, worker.SplitList(w.KafkaBootstrapServer), func(kc *kafkaadmin.Admin, ctx context.Context) (map[string]int64, error) {
		var err error
		if lag, missing, err = kc.Lag(ctx, w.ConsumerName, w.TopicsInput); err != nil {
			return nil, err
		}
		return kc.EndOffsets(ctx, append([]string{out.DeadLetterTopic.Topic}, w.TopicsOutput...))
	})
	if err != nil {
		return s.kafkaUnavailable("the worker's Kafka cluster", err)
	}
	if len(missing) > 0 {
		out.Warnings = append(out.Warnings, "input topics not on the cluster yet: "+strings.Join(missing, ", "))
	}
	out.Lag = toLagJSON(lag)
	out.DeadLetterTopic.Records = ends[out.DeadLetterTopic.Topic]
	return nil
}

// throughputMetrics fills the throughput; when it cannot be read the
// answer has zeros and a warning saying why.
func (s *Server) throughputMetrics(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) {
	out.Throughput = throughput.Throughput{InPerSecByTopic: map[string]float64{}}
	if s.tput == nil {
		out.Warnings = append(out.Warnings, "throughput is not measured on this server")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideTimeout)
	defer cancel()
	tp, err := s.tput.Throughput(ctx, throughput.Target{Worker: w.ConsumerName,
		Brokers: worker.SplitList(w.KafkaBootstrapServer), Inputs: w.TopicsInput, Outputs: w.TopicsOutput})
	if err != nil {
		out.Warnings = append(out.Warnings, "throughput: "+err.Error())
		return
	}
	out.Warnings = append(out.Warnings, tp.Warnings...)
	out.Throughput = tp
}

// kafkaUnavailable is the 503 of a cluster that did not answer (in time).
func (s *Server) kafkaUnavailable(what string, err error) error {
	msg := what + " did not answer"
	if errors.Is(err, context.DeadlineExceeded) {
		msg += " within " + s.cfg.KafkaTimeout.String()
	}
	return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: msg + ": " + err.Error(), Err: err}
}

func toLagJSON(lag []kafkaadmin.PartitionLag) lagJSON {
	out := lagJSON{ByTopic: map[string]int64{}, Partitions: make([]partLagJSON, 0, len(lag))}
	for _, l := range lag {
		out.Partitions = append(out.Partitions, partLagJSON{l.Topic, l.Partition, l.Committed, l.End, l.Lag})
		out.Total += l.Lag
		out.ByTopic[l.Topic] += l.Lag
	}
	return out
}

// redisMetrics fills what the worker's instances publish in Redis: who is
// alive, their counters and last errors, and the join's pending count.
func (s *Server) redisMetrics(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) {
	if s.redis == nil {
		out.Warnings = append(out.Warnings, "Redis is not configured on this server: no heartbeats, pending aggregates, expired or dead-lettered counts, or errors")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideTimeout)
	defer cancel()
	h, err := monitor.Heartbeats(ctx, s.redis, w.ConsumerName)
	if err != nil {
		out.Warnings = append(out.Warnings, "Redis: "+err.Error())
	} else {
		n := len(h.Instances)
		out.Instances.Heartbeats, out.Instances.Alive = &n, h.Instances
		out.Expired, out.DeadLettered, out.Errors = &h.Expired, &h.DeadLettered, h.Errors
	}
	if n, err := monitor.Pending(ctx, s.redis, w.ConsumerName, w.TopicsInput); err != nil {
		out.Warnings = append(out.Warnings, "pending aggregates: "+err.Error())
	} else {
		out.PendingAggregates = &n
	}
}

// allocationMetrics counts the worker's allocations in Nomad: running ones,
// and how many its job wants (0 when stopped or never deployed).
func (s *Server) allocationMetrics(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) {
	if s.sched == nil {
		out.Warnings = append(out.Warnings, "Nomad is not configured on this server: no allocation counts")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sideTimeout)
	defer cancel()
	st, err := s.sched.Status(ctx, w.ConsumerName)
	switch {
	case errors.Is(err, scheduler.ErrNotFound): // never deployed
		countAllocations(w, scheduler.WorkerStatus{Stopped: true}, out)
	case err != nil:
		out.Warnings = append(out.Warnings, "Nomad: "+err.Error())
	default:
		countAllocations(w, st, out)
	}
}

// countAllocations fills the running allocations of st and how many its
// job wants (0 when stopped).
func countAllocations(w apiserver.ConsumerConfig, st scheduler.WorkerStatus, out *metricsJSON) {
	running, desired := 0, 0
	for _, a := range st.Allocations {
		if a.ClientStatus == "running" && a.DesiredStatus == "run" {
			running++
		}
	}
	if !st.Stopped {
		desired = w.Instances
	}
	out.Instances.AllocationsRunning, out.Instances.AllocationsDesired = &running, &desired
}

// monitoredWorker loads the worker :id names straight from consumer_configs,
// answering 404 itself (also for an id that is not a number).
func (s *Server) monitoredWorker(c *gin.Context) (apiserver.ConsumerConfig, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id"))
		return apiserver.ConsumerConfig{}, false
	}
	w, err := s.db.ConsumerConfig(c.Request.Context(), id)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		err = apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id")
	}
	if err != nil {
		s.fail(c, err)
		return w, false
	}
	return w, true
}

// clusterGroups lists a registered cluster's consumer groups with their
// lag per topic; a cluster that does not answer within cfg.KafkaTimeout
// gives 503.
func (s *Server) clusterGroups(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	groups, err := kafkaDo(c.Request.Context(), s, cl.BootstrapServers, (*kafkaadmin.Admin).Groups)
	if err != nil {
		s.fail(c, s.kafkaUnavailable("the Kafka cluster", err))
		return
	}
	c.JSON(http.StatusOK, groups)
}
