package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// jobBrokers is the TRIBUTARY_KAFKA_BROKERS of worker's job, and its version.
func jobBrokers(t *testing.T, client *nomad.Client, worker string) (string, uint64) {
	t.Helper()
	job, _, err := client.Jobs().Info(scheduler.JobID(worker), nil)
	if err != nil {
		t.Fatal(err)
	}
	return job.TaskGroups[0].Tasks[0].Env["TRIBUTARY_KAFKA_BROKERS"], *job.Version
}

// TestClusterChangeRedeploysItsWorkers: a worker's cluster is a reference.
// Changing the cluster's bootstrap servers rolls the deployed worker onto
// them through the reconciler, and the event log says who changed what.
func TestClusterChangeRedeploysItsWorkers(t *testing.T) {
	e, client := dpEnv(t)
	brokers := stacktest.Kafka(t)
	name := stacktest.Name(t, "clref")
	dpPurgeJob(t, client, name)
	w := e.wkCreate(`{"name":"` + name + `","input_topics":["` + name + `.in"],"cluster_id":1,"function":"template","function_version":"1.0.0"}`)
	path := fmt.Sprintf("/api/v1/workers/%d", w.ID)
	e.do("POST", path+"/deploy", e.tokens[apiserver.RoleEditor], "").want(http.StatusAccepted)
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	before, version := jobBrokers(t, client, name)
	if before != strings.Join(brokers, ",") {
		t.Fatalf("job brokers %q, want the cluster's %q", before, brokers)
	}

	// The same broker under a second name, so that the worker still runs.
	_, port, _ := net.SplitHostPort(brokers[0])
	servers := []string{brokers[0], "localhost:" + port}
	e.do("PUT", "/api/v1/clusters/1", e.tokens[apiserver.RoleEditor],
		`{"name":"stack","bootstrap_servers":["`+strings.Join(servers, `","`)+`"]}`).want(http.StatusOK)
	start := time.Now()
	var after string
	var newVersion uint64
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if after, newVersion = jobBrokers(t, client, name); after == strings.Join(servers, ",") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job still has brokers %q a minute after the cluster changed", after)
		}
	}
	rolled := time.Since(start)
	if newVersion <= version {
		t.Errorf("job version %d after the roll, was %d", newVersion, version)
	}
	e.dpWaitStatus(w.ID, 3*time.Minute, dpHealthy)
	var got workerJSON
	e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&got)
	if got.KafkaBootstrapServer != strings.Join(servers, ",") || got.ConfigVersion != w.ConfigVersion {
		t.Errorf("worker after the change: servers %q, config version %d (was %d)", got.KafkaBootstrapServer, got.ConfigVersion, w.ConfigVersion)
	}
	var evs []events.Event
	e.do("GET", fmt.Sprintf("/api/v1/events?worker_id=%d&limit=2", w.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&evs)
	if len(evs) != 2 || evs[0].Actor != events.ActorReconciler || evs[0].Action != events.ActionRedeploy ||
		evs[1].Actor != "editor@example.com" || evs[1].Action != events.ActionRedeploy || !strings.Contains(evs[1].Reason, "localhost:"+port) {
		t.Errorf("events %+v, want the editor's cluster change then the reconciler's redeploy", evs)
	}
	t.Logf("cluster change: job on the new servers %s after the PUT (job version %d -> %d)", rolled.Round(time.Millisecond), version, newVersion)
}
