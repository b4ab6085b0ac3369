package httpapi

import (
	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/controlplane"
)

// autoscaleJSON is a worker's lag autoscaling policy in the API (see
// controlplane.Decide for what each field does). In a request, min
// defaults to 1 and cooldown_seconds to controlplane.DefaultCooldownSeconds.
type autoscaleJSON struct {
	Enabled         bool  `json:"enabled"`
	Min             *int  `json:"min,omitempty"`
	Max             int   `json:"max"`
	LagPerInstance  int64 `json:"lag_per_instance"`
	ActivationLag   int64 `json:"activation_lag"`
	CooldownSeconds *int  `json:"cooldown_seconds,omitempty"`
}

// toAutoscaleJSON is nil for a worker that never had a policy.
func toAutoscaleJSON(a apiserver.Autoscale) *autoscaleJSON {
	if a == (apiserver.Autoscale{}) {
		return nil
	}
	return &autoscaleJSON{a.Enabled, &a.Min, a.Max, a.LagPerInstance, a.ActivationLag, &a.CooldownSeconds}
}

// policy validates in, naming fields under prefix ("autoscale.").
func (in *autoscaleJSON) policy(prefix string) (apiserver.Autoscale, error) {
	if in == nil {
		return apiserver.Autoscale{}, nil
	}
	a := apiserver.Autoscale{Enabled: in.Enabled, Min: 1, Max: in.Max, LagPerInstance: in.LagPerInstance,
		ActivationLag: in.ActivationLag, CooldownSeconds: controlplane.DefaultCooldownSeconds}
	if in.Min != nil {
		a.Min = *in.Min
	}
	if in.CooldownSeconds != nil {
		a.CooldownSeconds = *in.CooldownSeconds
	}
	return a, controlplane.ValidateAutoscale(a, MaxInstances, prefix)
}

// refuseManualScale is the 409 of a manual scale of an autoscaled worker:
// the two would fight, so the operator turns autoscaling off first.
func refuseManualScale(w apiserver.ConsumerConfig) error {
	return apiserver.FieldErrorf(apiserver.CodeConflict, "instances",
		"worker %s is autoscaled between %d and %d instances: set autoscale.enabled to false (PUT /api/v1/workers/%d) to scale it by hand",
		w.ConsumerName, w.Autoscale.Min, w.Autoscale.Max, w.ID)
}
