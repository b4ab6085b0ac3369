package mysql

import (
	"encoding/json"

	"github.com/tributary-etl/tributary/apiserver"
)

// autoscaleRow is the JSON of consumer_configs.autoscale: the storage
// format, kept apart from the API's so that either may change alone.
type autoscaleRow struct {
	Enabled         bool  `json:"enabled"`
	Min             int   `json:"min"`
	Max             int   `json:"max"`
	LagPerInstance  int64 `json:"lag_per_instance"`
	ActivationLag   int64 `json:"activation_lag"`
	CooldownSeconds int   `json:"cooldown_seconds"`
}

func decodeAutoscale(raw []byte) (apiserver.Autoscale, error) {
	if raw == nil {
		return apiserver.Autoscale{}, nil
	}
	var r autoscaleRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return apiserver.Autoscale{}, err
	}
	return apiserver.Autoscale{Enabled: r.Enabled, Min: r.Min, Max: r.Max, LagPerInstance: r.LagPerInstance,
		ActivationLag: r.ActivationLag, CooldownSeconds: r.CooldownSeconds}, nil
}

// autoscaleArg is a's column value: NULL for the zero policy.
func autoscaleArg(a apiserver.Autoscale) any {
	if a == (apiserver.Autoscale{}) {
		return nil
	}
	b, _ := json.Marshal(autoscaleRow{a.Enabled, a.Min, a.Max, a.LagPerInstance, a.ActivationLag, a.CooldownSeconds}) // ints and a bool always marshal
	return string(b)
}
