package controlplane

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	policy := apiserver.Autoscale{Enabled: true, Min: 1, Max: 3, LagPerInstance: 100, ActivationLag: 50, CooldownSeconds: 60}
	lag := func(lags ...int64) []PartitionLag {
		out := make([]PartitionLag, len(lags))
		for i, l := range lags {
			out[i] = PartitionLag{Topic: "in", Partition: i, Committed: 10, Lag: l}
		}
		return out
	}
	stuck := map[partitionKey]int64{{"in", 0}: 10} // partition 0 committed 10 last tick too
	tests := []struct {
		name       string
		policy     apiserver.Autoscale
		current    int
		partitions int
		lags       []PartitionLag
		prev       map[partitionKey]int64
		lastChange time.Time
		want       int
		reason     string
	}{
		{"ceil of lag per instance", policy, 1, 6, lag(120, 80), nil, time.Time{}, 2, "scale up from 1 to 2"},
		{"capped at max", policy, 1, 6, lag(900, 900), nil, time.Time{}, 3, "scale up from 1 to 3"},
		{"capped at the partitions", policy, 1, 2, lag(900, 900), nil, time.Time{}, 2, "scale up from 1 to 2"},
		{"never below min", apiserver.Autoscale{Min: 2, Max: 4, LagPerInstance: 100}, 2, 6, lag(0), nil, time.Time{}, 2, "fit"},
		{"below activation stays at min", apiserver.Autoscale{Min: 1, Max: 3, LagPerInstance: 10, ActivationLag: 100}, 1, 6, lag(30, 20), nil, time.Time{}, 1, "activation"},
		{"activation does not hold above min", policy, 2, 6, lag(250), nil, time.Time{}, 3, "scale up from 2 to 3"},
		{"scale up ignores the cooldown", policy, 1, 6, lag(300), nil, now.Add(-time.Second), 3, "scale up"},
		{"persistent lag ignored", policy, 1, 6, lag(900, 60), stuck, time.Time{}, 1, "1 ignored as persistent"},
		{"nothing committed is never persistent", policy, 1, 6, []PartitionLag{{Topic: "in", Partition: 0, Committed: -1, Lag: 900}},
			map[partitionKey]int64{{"in", 0}: -1}, time.Time{}, 3, "scale up"},
		{"scale down waits for the cooldown", policy, 3, 6, lag(0), nil, now.Add(-30 * time.Second), 3, "within the cooldown"},
		{"scale down after the cooldown", policy, 3, 6, lag(0), nil, now.Add(-61 * time.Second), 1, "scale down from 3 to 1"},
		{"scale down with no change yet", policy, 3, 6, lag(150), nil, time.Time{}, 2, "scale down from 3 to 2"},
		{"above max is brought down", policy, 5, 6, lag(0), nil, now, 3, "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.policy, tt.current, tt.partitions, tt.lags, tt.prev, tt.lastChange, now)
			if d.Target != tt.want || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Decide = %d (%s), want %d with a reason containing %q", d.Target, d.Reason, tt.want, tt.reason)
			}
		})
	}
}
