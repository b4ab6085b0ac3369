package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func clusterBody(name string, servers ...string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "bootstrap_servers": servers})
	return string(b)
}

func TestClustersCRUD(t *testing.T) {
	e := newEnv(t).withUsers()
	ed, vw := e.tokens[apiserver.RoleEditor], e.tokens[apiserver.RoleViewer]

	var list []clusterJSON
	e.do("GET", "/api/v1/clusters", vw, "").want(http.StatusOK).decode(&list)
	if list == nil || len(list) != 0 {
		t.Fatalf("empty list = %v, want []", list)
	}
	var a, b clusterJSON
	e.do("POST", "/api/v1/clusters", ed, clusterBody("prod", "k1:9092", "k2:9092")).want(http.StatusCreated).decode(&a)
	if a.ID == 0 || a.Name != "prod" || len(a.BootstrapServers) != 2 || a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	e.do("POST", "/api/v1/clusters", ed, clusterBody("staging", "[::1]:9092")).want(http.StatusCreated).decode(&b)

	var got clusterJSON
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d", a.ID), vw, "").want(http.StatusOK).decode(&got)
	if got.Name != "prod" || strings.Join(got.BootstrapServers, ",") != "k1:9092,k2:9092" {
		t.Fatalf("get %+v", got)
	}
	e.do("GET", "/api/v1/clusters", vw, "").want(http.StatusOK).decode(&list)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("list %+v", list)
	}

	e.do("PUT", fmt.Sprintf("/api/v1/clusters/%d", a.ID), ed, clusterBody("production", "k3:9093")).want(http.StatusOK).decode(&got)
	if got.ID != a.ID || got.Name != "production" || strings.Join(got.BootstrapServers, ",") != "k3:9093" || got.UpdatedAt.Before(a.UpdatedAt) {
		t.Fatalf("put %+v", got)
	}

	// Unique names, on create and on rename.
	if f := e.do("POST", "/api/v1/clusters", ed, clusterBody("production", "x:1")).want(http.StatusConflict).errorOf(); f.Field != "name" {
		t.Errorf("duplicate create: %+v", f)
	}
	if f := e.do("PUT", fmt.Sprintf("/api/v1/clusters/%d", b.ID), ed, clusterBody("production", "x:1")).want(http.StatusConflict).errorOf(); f.Field != "name" {
		t.Errorf("duplicate rename: %+v", f)
	}
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d", b.ID), vw, "").want(http.StatusOK).decode(&got)
	if got.Name != "staging" {
		t.Errorf("refused rename changed the row: %+v", got)
	}

	e.do("DELETE", fmt.Sprintf("/api/v1/clusters/%d", a.ID), ed, "").want(http.StatusNoContent)
	e.do("GET", fmt.Sprintf("/api/v1/clusters/%d", a.ID), vw, "").want(http.StatusNotFound)
	e.do("DELETE", fmt.Sprintf("/api/v1/clusters/%d", a.ID), ed, "").want(http.StatusNotFound)
	e.do("PUT", fmt.Sprintf("/api/v1/clusters/%d", a.ID), ed, clusterBody("gone", "x:1")).want(http.StatusNotFound)
	e.do("GET", "/api/v1/clusters/abc", vw, "").want(http.StatusBadRequest)
	if n := e.count("clusters"); n != 1 {
		t.Errorf("%d clusters left, want 1", n)
	}
}

func TestClusterValidation(t *testing.T) {
	e := newEnv(t).withUsers()
	ed := e.tokens[apiserver.RoleEditor]
	var seed clusterJSON
	e.do("POST", "/api/v1/clusters", ed, clusterBody("seed", "k:9092")).want(http.StatusCreated).decode(&seed)

	many := make([]string, MaxBootstrapServers+1)
	for i := range many {
		many[i] = fmt.Sprintf("k%d:9092", i)
	}
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"no name", clusterBody("", "k:9092"), 422, "name"},
		{"name with space", clusterBody("a b", "k:9092"), 422, "name"},
		{"name starts with dot", clusterBody(".a", "k:9092"), 422, "name"},
		{"name too long", clusterBody(strings.Repeat("a", 65), "k:9092"), 422, "name"},
		{"no servers", `{"name":"c","bootstrap_servers":[]}`, 422, "bootstrap_servers"},
		{"servers missing", `{"name":"c"}`, 422, "bootstrap_servers"},
		{"too many servers", clusterBody("c", many...), 422, "bootstrap_servers"},
		{"no port", clusterBody("c", "k:9092", "k"), 422, "bootstrap_servers[1]"},
		{"empty host", clusterBody("c", ":9092"), 422, "bootstrap_servers[0]"},
		{"port zero", clusterBody("c", "k:0"), 422, "bootstrap_servers[0]"},
		{"port too big", clusterBody("c", "k:65536"), 422, "bootstrap_servers[0]"},
		{"port not a number", clusterBody("c", "k:http"), 422, "bootstrap_servers[0]"},
		{"duplicate server", clusterBody("c", "k:1", "k:1"), 422, "bootstrap_servers[1]"},
		{"servers as string", `{"name":"c","bootstrap_servers":"k:9092"}`, 400, "bootstrap_servers"},
		{"unknown field", `{"name":"c","bootstrap_servers":["k:1"],"extra":1}`, 400, "extra"},
		{"not JSON", `{"name":`, 400, ""},
		{"duplicate name", clusterBody("seed", "k:9092"), 409, "name"},
	}
	for _, tc := range cases {
		for _, m := range []struct{ method, path string }{
			{"POST", "/api/v1/clusters"},
			{"PUT", fmt.Sprintf("/api/v1/clusters/%d", seed.ID)},
		} {
			if tc.name == "duplicate name" && m.method == "PUT" {
				continue // renaming a cluster to its own name is allowed
			}
			t.Run(m.method+"/"+tc.name, func(t *testing.T) {
				f := e.do(m.method, m.path, ed, tc.body).want(tc.status).errorOf()
				if f.Field != tc.field {
					t.Errorf("field %q, want %q (%s)", f.Field, tc.field, f.Message)
				}
				if n := e.count("clusters"); n != 1 {
					t.Fatalf("%d clusters after a refused write, want 1", n)
				}
				var got clusterJSON
				e.do("GET", fmt.Sprintf("/api/v1/clusters/%d", seed.ID), ed, "").want(http.StatusOK).decode(&got)
				if got.Name != "seed" || strings.Join(got.BootstrapServers, ",") != "k:9092" {
					t.Fatalf("seed changed by a refused write: %+v", got)
				}
			})
		}
	}
}

func TestClusterRoles(t *testing.T) {
	e := newEnv(t).withUsers()
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], clusterBody("c", "127.0.0.1:1")).want(http.StatusCreated).decode(&cl)
	id := fmt.Sprint(cl.ID)
	writes := []struct{ method, path, body string }{
		{"POST", "/api/v1/clusters", clusterBody("d", "k:1")},
		{"PUT", "/api/v1/clusters/" + id, clusterBody("d", "k:1")},
		{"DELETE", "/api/v1/clusters/" + id, ""},
		{"POST", "/api/v1/clusters/" + id + "/topics", `{"name":"t","partitions":1,"replication_factor":1}`},
	}
	for _, w := range writes {
		t.Run("viewer "+w.method+" "+w.path, func(t *testing.T) {
			if f := e.do(w.method, w.path, e.tokens[apiserver.RoleViewer], w.body).want(http.StatusForbidden).errorOf(); f.Code != apiserver.CodeForbidden {
				t.Errorf("%+v", f)
			}
		})
		t.Run("anonymous "+w.method+" "+w.path, func(t *testing.T) {
			e.do(w.method, w.path, "", w.body).want(http.StatusUnauthorized)
		})
	}
	for _, path := range []string{"/api/v1/clusters", "/api/v1/clusters/" + id} {
		e.do("GET", path, "", "").want(http.StatusUnauthorized)
		e.do("GET", path, e.tokens[apiserver.RoleViewer], "").want(http.StatusOK)
	}
	e.do("POST", "/api/v1/clusters/"+id+"/check", "", "").want(http.StatusUnauthorized)
	if n := e.count("clusters"); n != 1 {
		t.Errorf("%d clusters, want 1: a refused write changed something", n)
	}
}

// closedAddr returns a 127.0.0.1 address with nothing listening.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClusterCheckUnreachable(t *testing.T) {
	e := newEnv(t).withUsers()
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", e.tokens[apiserver.RoleEditor], clusterBody("dead", closedAddr(t))).want(http.StatusCreated).decode(&cl)
	start := time.Now()
	var res kafkaadmin.Check
	e.do("POST", fmt.Sprintf("/api/v1/clusters/%d/check", cl.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&res)
	if res.OK || res.Error == "" || len(res.Brokers) != 0 || res.Controller != nil {
		t.Fatalf("check of a closed port = %+v", res)
	}
	if d := time.Since(start); d > e.cfg.KafkaTimeout+2*time.Second {
		t.Errorf("check took %v, beyond the %v timeout", d, e.cfg.KafkaTimeout)
	}
	f := e.do("GET", fmt.Sprintf("/api/v1/clusters/%d/topics", cl.ID), e.tokens[apiserver.RoleViewer], "").want(http.StatusServiceUnavailable).errorOf()
	if f.Code != apiserver.CodeUnavailable || !strings.Contains(f.Message, "dead") {
		t.Errorf("topics of a dead cluster: %+v", f)
	}
	e.do("POST", "/api/v1/clusters/999/check", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)
}

func TestClusterCheckTimeout(t *testing.T) {
	// A listener that accepts and never answers: the check must give up at
	// the configured timeout and still answer 200.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	kc, err := kafkaadmin.Dial([]string{ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	res := kc.Check(ctx)
	if res.OK || !strings.Contains(res.Error, "timeout") {
		t.Fatalf("check of a silent broker = %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("check took %v with a 300ms timeout", d)
	}
}

func TestClusterKafka(t *testing.T) {
	brokers := stacktest.Kfake(t, 3)
	e := newEnv(t).withUsers()
	ed, vw := e.tokens[apiserver.RoleEditor], e.tokens[apiserver.RoleViewer]
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", ed, clusterBody("local", brokers...)).want(http.StatusCreated).decode(&cl)
	base := fmt.Sprintf("/api/v1/clusters/%d", cl.ID)

	var res kafkaadmin.Check
	e.do("POST", base+"/check", vw, "").want(http.StatusOK).decode(&res)
	if !res.OK || res.Error != "" || len(res.Brokers) != len(brokers) || res.Controller == nil {
		t.Fatalf("check = %+v", res)
	}
	if got := net.JoinHostPort(res.Brokers[0].Host, fmt.Sprint(res.Brokers[0].Port)); got != brokers[0] {
		t.Errorf("broker %s, want %s", got, brokers[0])
	}

	e.do("POST", base+"/topics", ed, `{"name":"orders","partitions":3,"replication_factor":1}`).want(http.StatusCreated)
	e.do("POST", base+"/topics", ed, `{"name":"audit.v1","partitions":1,"replication_factor":1}`).want(http.StatusCreated)
	if f := e.do("POST", base+"/topics", ed, `{"name":"orders","partitions":3,"replication_factor":1}`).want(http.StatusConflict).errorOf(); f.Field != "name" {
		t.Errorf("duplicate topic: %+v", f)
	}
	bad := []struct{ body, field string }{
		{`{"name":"","partitions":1,"replication_factor":1}`, "name"},
		{`{"name":"a b","partitions":1,"replication_factor":1}`, "name"},
		{`{"name":"..","partitions":1,"replication_factor":1}`, "name"},
		{`{"name":"` + strings.Repeat("x", 250) + `","partitions":1,"replication_factor":1}`, "name"},
		{`{"name":"t","partitions":0,"replication_factor":1}`, "partitions"},
		{`{"name":"t","partitions":10001,"replication_factor":1}`, "partitions"},
		{`{"name":"t","partitions":1}`, "replication_factor"},
		{`{"name":"t","partitions":1,"replication_factor":33}`, "replication_factor"},
	}
	for _, b := range bad {
		if f := e.do("POST", base+"/topics", ed, b.body).want(http.StatusUnprocessableEntity).errorOf(); f.Field != b.field {
			t.Errorf("%s: field %q, want %q", b.body, f.Field, b.field)
		}
	}
	e.do("POST", base+"/topics", ed, `{"name":"t","partitions":"1","replication_factor":1}`).want(http.StatusBadRequest)

	// Five records on partition 1 of orders.
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	recs := make([]kafka.Record, 5)
	for i := range recs {
		recs[i] = kafka.Record{Value: kafka.NewBytes([]byte(fmt.Sprint(i)))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, err := client.Produce(ctx, &kafka.ProduceRequest{Topic: "orders", Partition: 1, RequiredAcks: kafka.RequireAll,
		Records: kafka.NewRecordReader(recs...)})
	if err != nil || pr.Error != nil {
		t.Fatalf("produce: %v %v", err, pr)
	}

	var topics []kafkaadmin.Topic
	e.do("GET", base+"/topics", vw, "").want(http.StatusOK).decode(&topics)
	byName := map[string]kafkaadmin.Topic{}
	for _, tp := range topics {
		byName[tp.Name] = tp
	}
	if _, ok := byName["t"]; ok || len(byName) != 2 {
		t.Fatalf("topics %+v: want exactly orders and audit.v1 (refused creates must leave nothing)", topics)
	}
	orders := byName["orders"]
	if orders.PartitionCount != 3 || len(orders.Partitions) != 3 {
		t.Fatalf("orders = %+v", orders)
	}
	for i, p := range orders.Partitions {
		want := int64(0)
		if i == 1 {
			want = 5
		}
		if p.ID != i || p.HighWatermark != want {
			t.Errorf("orders partition %d = %+v, want id %d high watermark %d", i, p, i, want)
		}
	}
	if a := byName["audit.v1"]; a.PartitionCount != 1 || a.Partitions[0].HighWatermark != 0 {
		t.Errorf("audit.v1 = %+v", a)
	}
	if n := e.count("clusters"); n != 1 {
		t.Errorf("%d clusters, want 1", n)
	}
}

func TestClusterMessages(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	e := newEnv(t).withUsers()
	ed, vw := e.tokens[apiserver.RoleEditor], e.tokens[apiserver.RoleViewer]
	var cl clusterJSON
	e.do("POST", "/api/v1/clusters", ed, clusterBody("local", brokers...)).want(http.StatusCreated).decode(&cl)
	base := fmt.Sprintf("/api/v1/clusters/%d", cl.ID)
	e.do("POST", base+"/topics", ed, `{"name":"docs","partitions":2,"replication_factor":1}`).want(http.StatusCreated)

	kc, err := kafkaadmin.Dial(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var recs []kafkaadmin.Record
	for i := range 8 {
		recs = append(recs, kafkaadmin.Record{Topic: "docs", Partition: 0, Key: fmt.Appendf(nil, "id-%d", i),
			Value: fmt.Appendf(nil, `{"n":%d}`, i), Timestamp: t0.Add(time.Duration(i) * time.Minute),
			Headers: []kafkaadmin.Header{{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kc.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}

	page := func(query string) kafkaadmin.MessagePage {
		t.Helper()
		var p kafkaadmin.MessagePage
		e.do("GET", base+"/topics/docs/messages"+query, vw, "").want(http.StatusOK).decode(&p)
		return p
	}
	offsets := func(p kafkaadmin.MessagePage) string {
		var o []int64
		for _, m := range p.Messages {
			o = append(o, m.Offset)
		}
		return fmt.Sprint(o)
	}
	for q, want := range map[string]string{
		"":                                 "[0 1 2 3 4 5 6 7]",
		"?limit=2":                         "[6 7]",
		"?partition=0&from=latest&limit=3": "[5 6 7]",
		"?from=earliest&limit=2":           "[0 1]",
		"?offset=5&limit=2":                "[5 6]",
		"?timestamp=2026-03-04T05:09:00Z":  "[3 4 5 6 7]",
		"?timestamp=2026-03-04T05:09:07.5%2B00:00&limit=1":                      "[4]",
		fmt.Sprintf("?timestamp=%d&limit=1", t0.Add(6*time.Minute).UnixMilli()): "[6]",
		"?partition=1": "[]",
	} {
		if got := offsets(page(q)); got != want {
			t.Errorf("%q: offsets %s, want %s", q, got, want)
		}
	}
	p := page("?offset=2&limit=1")
	if m := p.Messages[0]; p.Next != 3 || p.End != 8 || p.Partitions != 2 || m.Key.Text != "id-2" || m.Value.Text != `{"n":2}` ||
		!m.Timestamp.Equal(t0.Add(2*time.Minute)) || len(m.Headers) != 1 || m.Headers[0].Key != "traceparent" {
		t.Errorf("page %+v", p)
	}

	// Refusals name the parameter.
	for q, field := range map[string]string{
		"?partition=-1":            "partition",
		"?partition=x":             "partition",
		"?partition=2":             "partition",
		"?offset=-3":               "offset",
		"?offset=abc":              "offset",
		"?timestamp=yesterday":     "timestamp",
		"?from=middle":             "from",
		"?offset=1&timestamp=1000": "timestamp",
		"?limit=0":                 "limit",
		"?limit=501":               "limit",
	} {
		if f := e.do("GET", base+"/topics/docs/messages"+q, vw, "").want(http.StatusUnprocessableEntity).errorOf(); f.Field != field {
			t.Errorf("%s: field %q (%s), want %q", q, f.Field, f.Message, field)
		}
	}
	if f := e.do("GET", base+"/topics/docs/messages?partition=2", vw, "").errorOf(); !strings.Contains(f.Message, "2 partitions") {
		t.Errorf("partition 2 of 2: %q", f.Message)
	}
	e.do("GET", base+"/topics/nope/messages", vw, "").want(http.StatusNotFound)
	e.do("GET", base+"/topics/no%20pe/messages", vw, "").want(http.StatusNotFound)
	e.do("GET", "/api/v1/clusters/999999/topics/docs/messages", vw, "").want(http.StatusNotFound)
	e.do("GET", base+"/topics/docs/messages", "", "").want(http.StatusUnauthorized)
}
