package monitor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/shared/join"
	"github.com/tributary-etl/tributary/shared/worker"
)

// Instance is one live instance of a worker as its last heartbeat reports
// it (the hash shared/worker refreshes every heartbeat period and lets
// expire after three). Counters count since the instance started.
type Instance struct {
	Instance        string    `json:"instance"`
	Host            string    `json:"host"`
	FunctionVersion string    `json:"function_version"`
	ConfigVersion   string    `json:"config_version"`
	StartedAt       string    `json:"started_at"`
	LastSeen        time.Time `json:"last_seen"` // the heartbeat's updated_at
	Consumed        float64   `json:"consumed"`
	Joined          float64   `json:"joined"`
	Emitted         float64   `json:"emitted"`
	Expired         float64   `json:"expired"`
	DeadLettered    float64   `json:"dead_lettered"`
	LastError       string    `json:"-"` // reported in Health.Errors
}

// ErrorEntry is the last error an instance reported. Time is when the
// instance last reported it (its heartbeat), not when it happened: the
// runtime keeps only the message.
type ErrorEntry struct {
	Time     time.Time `json:"time"`
	Instance string    `json:"instance"`
	Message  string    `json:"message"`
}

// Health is what a worker's live instances publish, summed.
type Health struct {
	Instances    []Instance   // by instance id
	Expired      float64      // summed over Instances
	DeadLettered float64      // summed over Instances
	Errors       []ErrorEntry // one per instance with a last error, newest first
}

// Heartbeats reads the heartbeat of every live instance of worker. It
// SCANs (never KEYS) the worker's key prefix; the keys are hash-tagged with
// the worker, so on a Redis Cluster they all live on the node that owns the
// tag, and only that node is scanned. A key that expires between SCAN and
// HGETALL is skipped.
func Heartbeats(ctx context.Context, rdb redis.UniversalClient, workerName string) (Health, error) {
	h := Health{Instances: []Instance{}, Errors: []ErrorEntry{}}
	prefix := worker.HeartbeatKey(workerName, "")
	var scanner redis.Cmdable = rdb
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, prefix)
		if err != nil {
			return h, fmt.Errorf("node of the heartbeats of %s: %w", workerName, err)
		}
		scanner = node
	}
	var keys []string
	it := scanner.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		return h, fmt.Errorf("scan heartbeats of %s: %w", workerName, err)
	}
	for _, key := range keys {
		fields, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return h, fmt.Errorf("read heartbeat %s: %w", key, err)
		}
		if len(fields) == 0 {
			continue
		}
		h.add(parseInstance(strings.TrimPrefix(key, prefix), fields))
	}
	slices.SortFunc(h.Instances, func(a, b Instance) int { return strings.Compare(a.Instance, b.Instance) })
	slices.SortFunc(h.Errors, func(a, b ErrorEntry) int { return b.Time.Compare(a.Time) })
	return h, nil
}

func (h *Health) add(in Instance) {
	h.Instances = append(h.Instances, in)
	h.Expired += in.Expired
	h.DeadLettered += in.DeadLettered
	if in.LastError != "" {
		h.Errors = append(h.Errors, ErrorEntry{in.LastSeen, in.Instance, in.LastError})
	}
}

// parseInstance reads the fields shared/worker writes (see its beat).
// Numbers are written as floats by the runtime's Prometheus counters.
func parseInstance(id string, f map[string]string) Instance {
	num := func(k string) float64 {
		v, _ := strconv.ParseFloat(f[k], 64)
		return v
	}
	in := Instance{Instance: f["instance"], Host: f["host"], FunctionVersion: f["version"],
		ConfigVersion: f["config_version"], StartedAt: f["started_at"], Consumed: num("consumed"),
		Joined: num("joined"), Emitted: num("emitted"), Expired: num("expired"),
		DeadLettered: num("dead_lettered"), LastError: f["last_error"]}
	if in.Instance == "" {
		in.Instance = id
	}
	in.LastSeen, _ = time.Parse(time.RFC3339Nano, f["updated_at"])
	return in
}

// escapeGlob escapes the characters SCAN's MATCH treats as a pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Pending is the number of incomplete aggregates in worker's join state,
// counted the way the runtime's own store counts them. A worker with one
// input topic joins nothing: 0.
func Pending(ctx context.Context, rdb redis.UniversalClient, workerName string, inputs []string) (int64, error) {
	if len(inputs) < 2 {
		return 0, nil
	}
	store, err := join.New(rdb, join.Options{Worker: workerName, Topics: inputs})
	if err != nil {
		return 0, fmt.Errorf("join state of %s: %w", workerName, err)
	}
	return store.Pending(ctx)
}
