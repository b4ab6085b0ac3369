package scheduler

import "testing"

// TestAllocationVerdicts: an allocation is healthy, unverified or neither,
// never both, and only while it runs and is meant to.
func TestAllocationVerdicts(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name                string
		a                   Allocation
		healthy, unverified bool
	}{
		{"judged healthy", Allocation{ClientStatus: "running", DesiredStatus: "run", Healthy: &yes}, true, false},
		{"judged unhealthy", Allocation{ClientStatus: "running", DesiredStatus: "run", Healthy: &no}, false, false},
		{"no verdict yet (rollout or scale)", Allocation{ClientStatus: "running", DesiredStatus: "run"}, false, true},
		{"pending", Allocation{ClientStatus: "pending", DesiredStatus: "run"}, false, false},
		{"being stopped", Allocation{ClientStatus: "running", DesiredStatus: "stop", Healthy: &yes}, false, false},
		{"being stopped, no verdict", Allocation{ClientStatus: "running", DesiredStatus: "stop"}, false, false},
		{"failed", Allocation{ClientStatus: "failed", DesiredStatus: "run", Healthy: &no}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.HealthyRunning(); got != tc.healthy {
				t.Errorf("HealthyRunning() = %v, want %v", got, tc.healthy)
			}
			if got := tc.a.RunningUnverified(); got != tc.unverified {
				t.Errorf("RunningUnverified() = %v, want %v", got, tc.unverified)
			}
		})
	}
}
