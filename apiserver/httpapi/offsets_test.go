package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/replay"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestOffsetsAPI: refusals name their field, a group with a member is 409
// without stop (503 with it, without Nomad), an empty group is reset.
func TestOffsetsAPI(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	e := newEnv(t).withUsers()
	dlProduce(t, brokers, "in", "x", 3)
	w := e.wkCreate(`{"name":"rs","input_topics":["in"],"kafka_bootstrap_server":"` + strings.Join(brokers, ",") + `"}`)
	path := fmt.Sprintf("/api/v1/workers/%d/offsets", w.ID)
	ed := e.tokens[apiserver.RoleEditor]

	for _, tc := range []struct {
		body  string
		code  int
		field string
	}{
		{`{}`, 422, "to"},
		{`{"to":"start"}`, 422, "to"},
		{`{"to":3}`, 422, "to"},
		{`{"to":{}}`, 422, "to"},
		{`{"to":{"timestamp":"yesterday"}}`, 422, "to.timestamp"},
		{`{"to":{"timestamp":"2026-01-01T00:00:00Z","offsets":[{"topic":"in","partition":0,"offset":1}]}}`, 422, "to"},
		{`{"to":{"offsets":[{"topic":"in","partition":0,"offset":-1}]}}`, 422, "to.offsets[0].offset"},
		{`{"to":{"offsets":[{"topic":"other","partition":0,"offset":1}]}}`, 422, "to.offsets[0].topic"},
		{`{"to":{"offsets":[{"topic":"in","partition":3,"offset":1}]}}`, 422, "to.offsets[0].partition"},
		{`{"to":{"offsets":[{"topic":"in","partition":"0","offset":1}]}}`, 400, "to.offsets.partition"},
		{`{"to":{"time":"x"}}`, 400, "to.time"},
		{`{"to":"earliest","force":true}`, 400, "force"},
		{`{"to":"earliest","stop":true}`, 503, ""},
		{`{"to":"earliest","clear_tombstones":true}`, 503, ""},
	} {
		if got := e.do("POST", path, ed, tc.body).want(tc.code).errorOf(); got.Field != tc.field {
			t.Errorf("%s: field %q (%s), want %q", tc.body, got.Field, got.Message, tc.field)
		}
	}
	e.do("POST", path, e.tokens[apiserver.RoleViewer], `{"to":"earliest"}`).want(http.StatusForbidden)

	var res replay.ResetResult
	e.do("POST", path, ed, `{"to":"latest","reason":"skip the backlog"}`).want(http.StatusOK).decode(&res)
	if fmt.Sprint(res.To) != "[{in 0 3}]" || len(res.From) != 0 || res.Stopped {
		t.Fatalf("reset to latest %+v", res)
	}
	e.do("POST", path, ed, `{"to":{"offsets":[{"topic":"in","partition":0,"offset":1}]}}`).want(http.StatusOK).decode(&res)
	if fmt.Sprint(res.From) != "[{in 0 3}]" || fmt.Sprint(res.To) != "[{in 0 1}]" {
		t.Fatalf("reset to an offset %+v", res)
	}

	member, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("rs"), kgo.ConsumeTopics("in"),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	var got errorDetail
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && got.Code != apiserver.CodeConflict; {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		member.PollFetches(ctx)
		cancel()
		if r := e.do("POST", path, ed, `{"to":"earliest"}`); r.code == http.StatusConflict {
			got = r.errorOf()
		}
	}
	if got.Field != "stop" || !strings.Contains(got.Message, "1 active members") {
		t.Errorf("reset while a member consumes: %+v", got)
	}
	// A dry run answers with the member still there, and moves nothing.
	e.do("POST", path, ed, `{"to":"earliest","dry_run":true}`).want(http.StatusOK).decode(&res)
	if !res.DryRun || fmt.Sprint(res.From) != "[{in 0 1}]" || fmt.Sprint(res.To) != "[{in 0 0}]" || res.Stopped {
		t.Errorf("dry run %+v", res)
	}
	if n := e.count("events WHERE action = 'offset_reset'"); n != 2 {
		t.Errorf("%d offset_reset events after two resets and a dry run", n)
	}

	// With stop, a worker Tributary does not run is not stopped (nor
	// deployed): its group's member is someone else's consumer. The
	// scheduler's Nomad does not even answer: it is never asked.
	client, err := nomad.NewClient(&nomad.Config{Address: "http://" + closedAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(client, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e.srv.sched = sched
	got = e.do("POST", path, ed, `{"to":"earliest","stop":true}`).want(http.StatusConflict).errorOf()
	if got.Field != "stop" || !strings.Contains(got.Message, "not deployed") {
		t.Errorf("reset with stop of a worker not deployed: %+v", got)
	}
}
