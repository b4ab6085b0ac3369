package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/kafkax"
	"github.com/tributary-etl/tributary/shared/worker"
)

func (s *Server) mountMonitoring(v1 *gin.RouterGroup) {
	viewer := s.require(apiserver.RoleViewer)
	v1.GET("/workers/:id/metrics", viewer, s.workerMetrics)
	v1.GET("/clusters/:id/groups", viewer, s.clusterGroups)
}

type partitionLagJSON struct {
	Topic         string `json:"topic"`
	Partition     int    `json:"partition"`
	Committed     int64  `json:"committed"` // -1: nothing committed yet
	HighWatermark int64  `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

type lagJSON struct {
	Total      int64              `json:"total"`
	ByTopic    map[string]int64   `json:"by_topic"`
	Partitions []partitionLagJSON `json:"partitions"`
}

type throughputJSON struct {
	InPerSec      float64 `json:"in_per_sec"`  // records committed by the worker's group
	OutPerSec     float64 `json:"out_per_sec"` // records written to its output topics (by anyone)
	WindowSeconds float64 `json:"window_seconds"`
}

type instanceJSON struct {
	Instance      string    `json:"instance"`
	Host          string    `json:"host"`
	Version       string    `json:"function_version"`
	ConfigVersion string    `json:"config_version"`
	StartedAt     string    `json:"started_at"`
	LastSeen      time.Time `json:"last_seen"`
	Consumed      float64   `json:"consumed"`
	Emitted       float64   `json:"emitted"`
	Expired       float64   `json:"expired"`
	DeadLettered  float64   `json:"dead_lettered"`
}

type instancesJSON struct {
	Heartbeats         int            `json:"heartbeats"`
	AllocationsRunning int            `json:"allocations_running"`
	AllocationsDesired int            `json:"allocations_desired"`
	Alive              []instanceJSON `json:"alive"`
}

type errorEntryJSON struct {
	Time     time.Time `json:"time"`
	Instance string    `json:"instance"`
	Message  string    `json:"message"`
}

type metricsJSON struct {
	Worker            string           `json:"worker"`
	Lag               lagJSON          `json:"lag"`
	Throughput        throughputJSON   `json:"throughput"`
	Instances         instancesJSON    `json:"instances"`
	PendingAggregates *int64           `json:"pending_aggregates"` // null without Redis or for one input
	Expired           float64          `json:"expired"`            // summed over live instances since they started
	DeadLettered      float64          `json:"dead_lettered"`      // likewise
	Errors            []errorEntryJSON `json:"errors"`
	Warnings          []string         `json:"warnings"`
	SampledAt         time.Time        `json:"sampled_at"`
}

// rateCache keeps each worker's previous offsets sample, so that a
// request's throughput is the rate since the previous request.
type rateCache struct {
	mu   sync.Mutex
	last map[int64]rateSample
}

type rateSample struct {
	at       time.Time
	in, out  int64 // committed offsets of the inputs; end offsets of the outputs
	hasInOut bool
}

// rate records now's sample of worker id and returns the rates since the
// previous one (zero, with a zero window, on the first call).
func (rc *rateCache) rate(id int64, now rateSample) throughputJSON {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.last == nil {
		rc.last = map[int64]rateSample{}
	}
	prev, ok := rc.last[id]
	rc.last[id] = now
	window := now.at.Sub(prev.at).Seconds()
	if !ok || window <= 0 {
		return throughputJSON{}
	}
	return throughputJSON{InPerSec: float64(max(now.in-prev.in, 0)) / window,
		OutPerSec: float64(max(now.out-prev.out, 0)) / window, WindowSeconds: window}
}

func (s *Server) workerMetrics(c *gin.Context) {
	w, ok := s.worker(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.KafkaTimeout)
	defer cancel()
	out := metricsJSON{Worker: w.ConsumerName, Errors: []errorEntryJSON{}, Warnings: []string{}, SampledAt: time.Now().UTC()}
	servers := worker.SplitList(w.KafkaBootstrapServer)
	lag, err := kafkaadmin.GroupLag(ctx, servers, w.ConsumerName, w.TopicsInput)
	if err != nil {
		s.fail(c, kafkaUnavailable(err))
		return
	}
	ends, err := kafkaadmin.EndOffsets(ctx, servers, w.TopicsOutput)
	if err != nil {
		s.fail(c, kafkaUnavailable(err))
		return
	}
	out.Lag = toLagJSON(lag)
	sample := rateSample{at: time.Now()}
	for _, l := range lag {
		sample.in += max(l.Committed, 0)
	}
	for _, n := range ends {
		sample.out += n
	}
	out.Throughput = s.rates.rate(w.ID, sample)
	s.heartbeatsOf(ctx, w, &out)
	s.allocationsOf(ctx, w, &out)
	c.JSON(http.StatusOK, out)
}

func kafkaUnavailable(err error) error {
	return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "the worker's Kafka cluster did not answer: " + err.Error(), Err: err}
}

func toLagJSON(lag []kafkax.PartitionLag) lagJSON {
	out := lagJSON{ByTopic: map[string]int64{}, Partitions: []partitionLagJSON{}}
	for _, l := range lag {
		out.Partitions = append(out.Partitions, partitionLagJSON{l.Topic, l.Partition, l.Committed, l.End, l.Lag})
		out.Total += l.Lag
		out.ByTopic[l.Topic] += l.Lag
	}
	return out
}

// heartbeatsOf fills what the worker's instances publish in Redis: who is
// alive, their counters and last errors, and the join's pending count.
func (s *Server) heartbeatsOf(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) {
	out.Instances.Alive = []instanceJSON{}
	if s.redis == nil {
		out.Warnings = append(out.Warnings, "Redis is not configured: no heartbeats, pending aggregates or errors")
		return
	}
	prefix := worker.HeartbeatKey(w.ConsumerName, "")
	var keys []string
	it := s.redis.Scan(ctx, 0, prefix+"*", 1000).Iterator() // SCAN, not KEYS: never blocks Redis
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		out.Warnings = append(out.Warnings, "Redis: "+err.Error())
		return
	}
	for _, key := range keys {
		h, err := s.redis.HGetAll(ctx, key).Result()
		if err != nil || len(h) == 0 {
			continue // expired between KEYS and HGETALL
		}
		inst := instanceJSON{Instance: h["instance"], Host: h["host"], Version: h["version"], ConfigVersion: h["config_version"],
			StartedAt: h["started_at"], Consumed: num(h["consumed"]), Emitted: num(h["emitted"]),
			Expired: num(h["expired"]), DeadLettered: num(h["dead_lettered"])}
		inst.LastSeen, _ = time.Parse(time.RFC3339Nano, h["updated_at"])
		out.Instances.Alive = append(out.Instances.Alive, inst)
		out.Expired += inst.Expired
		out.DeadLettered += inst.DeadLettered
		if msg := h["last_error"]; msg != "" {
			out.Errors = append(out.Errors, errorEntryJSON{inst.LastSeen, inst.Instance, msg})
		}
	}
	out.Instances.Heartbeats = len(out.Instances.Alive)
	if len(w.TopicsInput) < 2 {
		return // no join, nothing pending
	}
	store, err := join.New(s.redis, join.Options{Worker: w.ConsumerName, Topics: w.TopicsInput})
	if err == nil {
		var n int64
		if n, err = store.Pending(ctx); err == nil {
			out.PendingAggregates = &n
		}
	}
	if err != nil {
		out.Warnings = append(out.Warnings, "pending aggregates: "+err.Error())
	}
}

func num(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// allocationsOf counts the worker's running allocations in Nomad.
func (s *Server) allocationsOf(ctx context.Context, w apiserver.ConsumerConfig, out *metricsJSON) {
	if s.sched == nil {
		out.Warnings = append(out.Warnings, "Nomad is not configured: no allocation counts")
		return
	}
	st, err := s.status(ctx, w)
	if err != nil {
		out.Warnings = append(out.Warnings, "Nomad: "+errorMessage(err))
		return
	}
	out.Instances.AllocationsRunning, out.Instances.AllocationsDesired = st.Running, st.Desired
}

func (s *Server) clusterGroups(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.KafkaTimeout)
	defer cancel()
	groups, err := kafkaadmin.Groups(ctx, cl.BootstrapServers)
	if err != nil {
		if errors.Is(err, kafkaadmin.ErrUnreachable) || ctx.Err() != nil {
			err = &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "the cluster did not answer: " + strings.TrimPrefix(err.Error(), kafkaadmin.ErrUnreachable.Error()+": "), Err: err}
		}
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, groups)
}
