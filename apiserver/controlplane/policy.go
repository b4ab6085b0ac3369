package controlplane

import (
	"fmt"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// DefaultCooldownSeconds is a policy's cooldown when the API is not given
// one: KEDA's cooldownPeriod default.
const DefaultCooldownSeconds = 300

// MaxCooldownSeconds bounds a policy's cooldown (a day).
const MaxCooldownSeconds = 86400

// ValidateAutoscale checks policy a for a worker allowed at most
// maxInstances, naming the field at fault under prefix ("autoscale.").
// A disabled policy is stored as given, but must still be coherent so
// that turning it on later needs no other change.
func ValidateAutoscale(a apiserver.Autoscale, maxInstances int, prefix string) error {
	bad := func(field, format string, args ...any) error {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+field, format, args...)
	}
	switch {
	case a.Min < 1 || a.Min > maxInstances:
		return bad("min", "must be between 1 and %d", maxInstances)
	case a.Max < a.Min || a.Max > maxInstances:
		return bad("max", "must be between min (%d) and %d", a.Min, maxInstances)
	case a.LagPerInstance < 1:
		return bad("lag_per_instance", "must be at least 1 (messages of lag one instance may carry)")
	case a.ActivationLag < 0:
		return bad("activation_lag", "must not be negative")
	case a.CooldownSeconds < 0 || a.CooldownSeconds > MaxCooldownSeconds:
		return bad("cooldown_seconds", "must be between 0 and %d", MaxCooldownSeconds)
	}
	return nil
}

// PartitionLag is a consumer group's position on one partition, as the
// autoscaler reads it (see LagReader).
type PartitionLag struct {
	Topic     string
	Partition int
	Committed int64 // -1: nothing committed
	Lag       int64
}

// Decision is what the autoscaler wants for one worker: Target equal to
// the current count means no change. Reason says why in words.
type Decision struct {
	Target     int
	Reason     string
	TotalLag   int64 // the lag counted (persistent lag excluded)
	Persistent int   // partitions ignored as persistent lag
}

// partitionKey names a partition in the previous tick's offsets.
type partitionKey struct {
	topic     string
	partition int
}

// Decide is the autoscaling policy, free of I/O, with the semantics of
// KEDA's Kafka scaler:
//   - partitions with lag whose committed offset has not moved since the
//     previous tick (prev) are ignored as persistent lag (a partition with
//     nothing committed yet, or unseen before, always counts);
//   - desired = ceil(total lag / LagPerInstance), capped at partitions
//     (the most instances that get work; 0: unknown, no cap) and at Max,
//     never below Min;
//   - a worker at or below Min is not scaled up while the lag is at or
//     below ActivationLag;
//   - scaling up is immediate; scaling down waits until CooldownSeconds
//     have passed since the last change (lastChange, zero: none).
func Decide(p apiserver.Autoscale, current, partitions int, lags []PartitionLag, prev map[partitionKey]int64, lastChange, now time.Time) Decision {
	d := Decision{Target: current}
	for _, l := range lags {
		if before, seen := prev[partitionKey{l.Topic, l.Partition}]; seen && l.Committed >= 0 && l.Committed == before && l.Lag > 0 {
			d.Persistent++
			continue
		}
		d.TotalLag += l.Lag
	}
	want := int(min((d.TotalLag+p.LagPerInstance-1)/max(p.LagPerInstance, 1), int64(p.Max)))
	if partitions > 0 {
		want = min(want, partitions)
	}
	want = max(want, p.Min)
	lagText := fmt.Sprintf("lag %d over %d partitions (%d ignored as persistent), %d per instance", d.TotalLag, len(lags), d.Persistent, p.LagPerInstance)
	cooldown := time.Duration(p.CooldownSeconds) * time.Second
	switch {
	case current < p.Min || current > p.Max:
		d.Target = min(max(current, p.Min), p.Max)
		d.Reason = fmt.Sprintf("%d instances outside [%d, %d]: scale to %d", current, p.Min, p.Max, d.Target)
	case want > current && current <= p.Min && d.TotalLag <= p.ActivationLag:
		d.Reason = fmt.Sprintf("%s: at or below the activation lag %d, stay at %d", lagText, p.ActivationLag, current)
	case want > current:
		d.Target = want
		d.Reason = fmt.Sprintf("%s: scale up from %d to %d (max %d, %d partitions)", lagText, current, want, p.Max, partitions)
	case want < current && !lastChange.IsZero() && now.Sub(lastChange) < cooldown:
		d.Reason = fmt.Sprintf("%s wants %d, but the last change was %s ago, within the cooldown %s", lagText, want,
			now.Sub(lastChange).Round(time.Second), cooldown)
	case want < current:
		d.Target = want
		d.Reason = fmt.Sprintf("%s: scale down from %d to %d after the cooldown %s", lagText, current, want, cooldown)
	default:
		d.Reason = fmt.Sprintf("%s: %d instances fit", lagText, current)
	}
	return d
}
