package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// dlProduce writes n dead letters of class to topic as the runtime does,
// with source in/0/<i>.
func dlProduce(t *testing.T, brokers []string, topic, class string, n int) {
	t.Helper()
	kc, err := kafkaadmin.Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kc.CreateTopic(ctx, topic, 1, 1); err != nil && err != kafkaadmin.ErrTopicExists {
		t.Fatal(err)
	}
	var recs []kafkaadmin.Record
	for i := range n {
		recs = append(recs, kafkaadmin.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, `{"id":"%d"}`, i), Headers: []kafkaadmin.Header{
			{Key: worker.HeaderSourceTopic, Value: []byte("in")}, {Key: worker.HeaderSourcePartition, Value: []byte("0")},
			{Key: worker.HeaderSourceOffset, Value: []byte(strconv.Itoa(i))}, {Key: worker.HeaderErrorClass, Value: []byte(class)}}})
	}
	if _, err := kc.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// TestDeadLettersAPI: viewers read, editors redrive, a second redrive
// sends nothing, and every refusal names its field.
func TestDeadLettersAPI(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	e := newEnv(t).withUsers()
	w := e.wkCreate(`{"name":"dl","input_topics":["in","side"],"kafka_bootstrap_server":"` + strings.Join(brokers, ",") + `"}`)
	base := fmt.Sprintf("/api/v1/workers/%d/dead-letters", w.ID)
	vw, ed := e.tokens[apiserver.RoleViewer], e.tokens[apiserver.RoleEditor]

	var page deadletter.Page
	e.do("GET", base, vw, "").want(http.StatusOK).decode(&page)
	if page.Topic != "dl.dlq" || len(page.Letters) != 0 || page.Next != nil {
		t.Fatalf("before any dead letter: %+v", page)
	}
	dlProduce(t, brokers, "in", worker.ClassRejected, 0)
	dlProduce(t, brokers, "dl.dlq", worker.ClassRejected, 3)
	e.do("GET", base+"?limit=2", vw, "").want(http.StatusOK).decode(&page)
	if len(page.Letters) != 2 || page.Next == nil || *page.Next != (deadletter.Cursor{Partition: 0, Offset: 2}) ||
		page.Letters[1].Source.Offset != 1 || page.Letters[1].Class != worker.ClassRejected {
		t.Fatalf("first page %+v", page)
	}

	e.do("POST", base+"/redrive", vw, `{"offsets":[{"partition":0,"offset":0}]}`).want(http.StatusForbidden)
	e.do("POST", base+"/redrive", "", `{}`).want(http.StatusUnauthorized)
	var res deadletter.RedriveResult
	e.do("POST", base+"/redrive", ed, `{"up_to":[{"partition":0,"offset":1}],"reason":"fixed in 1.0.1"}`).want(http.StatusOK).decode(&res)
	if res.Redriven != 2 || len(res.Outcomes) != 2 || res.Outcomes[1].To.Topic != "in" {
		t.Fatalf("redrive %+v", res)
	}
	e.do("POST", base+"/redrive", ed, `{"class":"rejected"}`).want(http.StatusOK).decode(&res)
	if res.Redriven != 1 || res.AlreadyRedriven != 2 || res.Outcomes[2].Status != deadletter.StatusRedriven {
		t.Fatalf("redrive of the class %+v", res)
	}
	e.do("GET", base, vw, "").want(http.StatusOK).decode(&page)
	for _, l := range page.Letters {
		if l.Redriven == nil || l.Redriven.By != "editor@example.com" {
			t.Errorf("letter %d: redriven %+v", l.Offset, l.Redriven)
		}
	}
	if n := e.count("redrives"); n != 3 {
		t.Errorf("%d rows in the ledger, want 3", n)
	}

	for _, tc := range []struct {
		method, query, body string
		code                int
		field               string
	}{
		{"GET", "?limit=0", "", 422, "limit"},
		{"GET", "?limit=501", "", 422, "limit"},
		{"GET", "?partition=-1", "", 422, "partition"},
		{"GET", "?offset=x", "", 422, "offset"},
		{"POST", "/redrive", `{}`, 422, "offsets"},
		{"POST", "/redrive", `{"offsets":[{"partition":0,"offset":0}],"up_to":[{"partition":0,"offset":0}]}`, 422, "up_to"},
		{"POST", "/redrive", `{"class":"rejected","to_topic":"elsewhere"}`, 422, "to_topic"},
		{"POST", "/redrive", `{"offsets":[{"partition":0,"offset":-2}]}`, 422, "offsets[0].offset"},
		{"POST", "/redrive", `{"offsets":[{"partition":"0","offset":1}]}`, 400, "offsets.partition"},
		{"POST", "/redrive", `{"class":"rejected","all":true}`, 400, "all"},
	} {
		token := vw
		if tc.method == "POST" {
			token = ed
		}
		if got := e.do(tc.method, base+tc.query, token, tc.body).want(tc.code).errorOf(); got.Field != tc.field {
			t.Errorf("%s %s %s: field %q (%s), want %q", tc.method, tc.query, tc.body, got.Field, got.Message, tc.field)
		}
	}
	e.do("GET", "/api/v1/workers/999/dead-letters", vw, "").want(http.StatusNotFound)
}

// TestConcurrentRedrivesSendOnce: four editors redriving the same dead
// letters at once send each exactly once between them.
func TestConcurrentRedrivesSendOnce(t *testing.T) {
	brokers := stacktest.Kfake(t, 1)
	e := newEnv(t).withUsers()
	w := e.wkCreate(`{"name":"race","input_topics":["in"],"kafka_bootstrap_server":"` + strings.Join(brokers, ",") + `"}`)
	dlProduce(t, brokers, "in", worker.ClassRejected, 0)
	dlProduce(t, brokers, "race.dlq", worker.ClassRejected, 20)
	path := fmt.Sprintf("/api/v1/workers/%d/dead-letters/redrive", w.ID)
	results := make([]deadletter.RedriveResult, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			e.do("POST", path, e.tokens[apiserver.RoleEditor], `{"class":"rejected"}`).want(http.StatusOK).decode(&results[i])
		})
	}
	wg.Wait()
	sent, skipped := 0, 0
	for _, r := range results {
		sent += r.Redriven
		skipped += r.AlreadyRedriven + r.Refused // refused: another request held the claim
		if r.Failed != 0 {
			t.Errorf("failures %+v", r)
		}
	}
	kc, err := kafkaadmin.Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ends, err := kc.EndOffsets(context.Background(), []string{"in"})
	if sent != 20 || skipped != 60 || err != nil || ends["in"] != 20 {
		t.Errorf("redriven %d, skipped %d between the four; %d records in the input (%v); want 20, 60, 20", sent, skipped, ends["in"], err)
	}
}
