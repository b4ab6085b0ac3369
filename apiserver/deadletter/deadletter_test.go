package deadletter

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
	"github.com/tributary-etl/tributary/shared/worker"
)

// memLedger is a Ledger in memory; mysql.DB is tested against the same
// contract in the mysql package.
type memLedger struct {
	mu sync.Mutex
	m  map[Key]Entry
}

func (l *memLedger) Claim(_ context.Context, e Entry, stale time.Time) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got, ok := l.m[e.Key]
	if !ok || got.State == StateClaimed && got.Token != e.Token && got.ClaimedAt.Before(stale) {
		e.State = StateClaimed
		l.m[e.Key] = e
		return e, nil
	}
	return got, nil
}

func (l *memLedger) Confirm(_ context.Context, k Key, token string, t Target, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[k]
	if !ok || e.Token != token || e.State != StateClaimed {
		return ErrNotClaimed
	}
	e.State, e.Target, e.SentAt = StateSent, t, at
	l.m[k] = e
	return nil
}

func (l *memLedger) Release(_ context.Context, k Key, token string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.m[k]; !ok || e.Token != token {
		return ErrNotClaimed
	}
	delete(l.m, k)
	return nil
}

func (l *memLedger) Sent(_ context.Context, cluster, topic string, p int32, from, to int64) (map[int64]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]Entry{}
	for k, e := range l.m {
		if k.Cluster == cluster && k.Topic == topic && k.Partition == p && k.Offset >= from && k.Offset <= to && e.State == StateSent {
			out[k.Offset] = e
		}
	}
	return out, nil
}

// deadLetter is a record as shared/worker writes it.
func deadLetter(src string, p int32, off int64, class string, extra ...kafkaadmin.Header) kafkaadmin.Record {
	hs := []kafkaadmin.Header{{Key: "traceparent", Value: []byte("00-abc-def-01")},
		{Key: worker.HeaderWorker, Value: []byte("w")},
		{Key: worker.HeaderSourceTopic, Value: []byte(src)},
		{Key: worker.HeaderSourcePartition, Value: []byte(strconv.Itoa(int(p)))},
		{Key: worker.HeaderSourceOffset, Value: []byte(strconv.FormatInt(off, 10))},
		{Key: worker.HeaderErrorClass, Value: []byte(class)},
		{Key: worker.HeaderErrorMessage, Value: []byte(class + ": no")}}
	return kafkaadmin.Record{Topic: "w.dlq", Partition: 0, Key: fmt.Appendf(nil, "id-%d", off),
		Value: fmt.Appendf(nil, `{"id":"id-%d"}`, off), Headers: append(hs, extra...)}
}

func setup(t *testing.T, recs ...kafkaadmin.Record) (*kafkaadmin.Admin, context.Context) {
	t.Helper()
	a, err := kafkaadmin.Dial(stacktest.Kfake(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	for _, topic := range []string{"w.dlq", "in", "other"} {
		if err := a.CreateTopic(ctx, topic, 2, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}
	return a, ctx
}

func TestBrowse(t *testing.T) {
	var recs []kafkaadmin.Record
	for i := range 5 {
		recs = append(recs, deadLetter("in", 1, int64(10+i), worker.ClassRejected))
	}
	p1 := deadLetter("in", 0, 99, worker.ClassNotJSON, kafkaadmin.Header{Key: HeaderRedriveCount, Value: []byte("2")})
	p1.Partition, p1.Value = 1, []byte{0xff, 0xfe}
	a, ctx := setup(t, append(recs, p1)...)

	page, err := Browse(ctx, a, nil, "w.dlq", Cursor{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	l := page.Letters[0]
	if len(page.Letters) != 3 || *page.Next != (Cursor{0, 3}) || len(page.Partitions) != 2 || page.Partitions[0].End != 5 {
		t.Fatalf("first page %+v", page)
	}
	if l.Class != worker.ClassRejected || *l.Source != (Source{"in", 1, 10}) || l.Worker != "w" || l.Error != "rejected: no" ||
		l.Value != `{"id":"id-10"}` || l.Key != "id-10" || l.Encoding != "utf8" || len(l.Headers) != 1 || l.Headers[0].Key != "traceparent" ||
		l.Timestamp.IsZero() || l.Redriven != nil {
		t.Errorf("letter %+v", l)
	}
	page, err = Browse(ctx, a, nil, "w.dlq", *page.Next, 3)
	if err != nil || len(page.Letters) != 3 || page.Letters[1].Offset != 4 || page.Letters[2].Partition != 1 || page.Next != nil {
		t.Fatalf("second page %+v (%v)", page, err)
	}
	if l := page.Letters[2]; l.Encoding != "base64" || l.Value != "//4=" || l.RedriveCount != 2 || l.Class != worker.ClassNotJSON {
		t.Errorf("binary letter %+v", l)
	}
	if page, err := Browse(ctx, a, nil, "never.written", Cursor{}, 3); err != nil || len(page.Letters) != 0 || page.Next != nil {
		t.Errorf("a topic not created yet: %+v (%v)", page, err)
	}
}

func TestRedrive(t *testing.T) {
	recs := []kafkaadmin.Record{
		deadLetter("in", 1, 10, worker.ClassRejected),                                                                 // 0
		deadLetter("in", 1, 11, worker.ClassNotJSON),                                                                  // 1
		deadLetter("in", 0, 12, worker.ClassRejected, kafkaadmin.Header{Key: HeaderRedriveCount, Value: []byte("3")}), // 2: too often
		deadLetter("gone", 0, 13, worker.ClassRejected),                                                               // 3: not an input any more
		deadLetter("in", 1, 14, worker.ClassRejected, kafkaadmin.Header{Key: HeaderRedriveCount, Value: []byte("1")}), // 4
	}
	a, ctx := setup(t, recs...)
	ledger := &memLedger{m: map[Key]Entry{}}
	w := Worker{ID: 7, Name: "w", Inputs: []string{"in", "other"}, Topic: "w.dlq"}

	for _, tc := range []struct {
		sel   Selection
		field string
	}{
		{Selection{}, "offsets"},
		{Selection{Offsets: []Cursor{{0, 1}}, UpTo: []Cursor{{0, 1}}}, "up_to"},
		{Selection{Class: "x", ToTopic: "w.dlq"}, "to_topic"},
		{Selection{Offsets: []Cursor{{0, -1}}}, "offsets[0].offset"},
		{Selection{UpTo: []Cursor{{-1, 1}}}, "up_to[0].partition"},
		{Selection{UpTo: []Cursor{{5, 1}}}, "up_to"},
	} {
		_, err := Redrive(ctx, a, ledger, w, tc.sel, "ed")
		if e, ok := err.(*apiserver.Error); !ok || e.Field != tc.field || e.Code != apiserver.CodeInvalid {
			t.Errorf("%+v: %v, want a 422 on %s", tc.sel, err, tc.field)
		}
	}

	res, err := Redrive(ctx, a, ledger, w, Selection{UpTo: []Cursor{{0, 3}}, Class: worker.ClassRejected}, "ed")
	if err != nil {
		t.Fatal(err)
	}
	statuses := func(r RedriveResult) string {
		var s []string
		for _, o := range r.Outcomes {
			s = append(s, fmt.Sprintf("%d:%s", o.Offset, o.Status))
		}
		return strings.Join(s, " ")
	}
	if got := statuses(res); got != "0:redriven 2:refused 3:refused" || res.Redriven != 1 || res.Refused != 2 {
		t.Fatalf("first redrive %s %+v", got, res)
	}
	if !strings.Contains(res.Outcomes[1].Reason, "redriven 3 times") || !strings.Contains(res.Outcomes[2].Reason, `"gone" is not an input`) {
		t.Errorf("reasons %+v", res.Outcomes)
	}
	to := res.Outcomes[0].To
	if to.Topic != "in" || to.Partition != 1 {
		t.Fatalf("redriven to %+v, want in/1 (its source partition)", to)
	}
	back, err := a.Read(ctx, "in", 1, to.Offset, to.Offset+1, 1)
	if err != nil || len(back) != 1 {
		t.Fatal(back, err)
	}
	hs := map[string]string{}
	for _, h := range back[0].Headers {
		hs[h.Key] = string(h.Value)
	}
	if len(hs) != 3 || hs[HeaderRedriveCount] != "1" || hs[HeaderRedriveFrom] != "w.dlq/0/0" || hs["traceparent"] == "" ||
		string(back[0].Value) != `{"id":"id-10"}` || string(back[0].Key) != "id-10" {
		t.Errorf("redriven record %+v headers %v", back[0], hs)
	}

	// Asking again sends nothing; offsets and to_topic select the rest.
	res, err = Redrive(ctx, a, ledger, w, Selection{Offsets: []Cursor{{0, 0}, {0, 1}, {0, 4}, {0, 9}, {1, 0}}, ToTopic: "other"}, "ed")
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got != "0:already_redriven 1:redriven 4:redriven 9:refused 0:refused" {
		t.Fatalf("second redrive %s %+v", got, res)
	}
	if res.Outcomes[2].To.Topic != "other" {
		t.Errorf("to_topic ignored: %+v", res.Outcomes[2])
	}
	page, err := Browse(ctx, a, ledger, "w.dlq", Cursor{}, 10)
	if err != nil || page.Letters[0].Redriven == nil || page.Letters[0].Redriven.By != "ed" || page.Letters[2].Redriven != nil {
		t.Errorf("browse after the redrives %+v (%v)", page, err)
	}
	ends, _ := a.EndOffsets(ctx, []string{"in", "other"})
	if ends["in"] != 1 || ends["other"] != 2 {
		t.Errorf("records in the inputs %v, want 1 in in and 2 in other", ends)
	}
}

func TestRedriveRefusesJoinedAggregates(t *testing.T) {
	agg := deadLetter("left", 0, 5, worker.ClassProcess, kafkaadmin.Header{Key: worker.HeaderJoinID, Value: []byte("x")},
		kafkaadmin.Header{Key: worker.HeaderJoinTopics, Value: []byte("left,right")})
	a, ctx := setup(t, agg)
	res, err := Redrive(ctx, a, &memLedger{m: map[Key]Entry{}}, Worker{Name: "w", Inputs: []string{"left", "right"}, Topic: "w.dlq"},
		Selection{Class: worker.ClassProcess}, "ed")
	if err != nil || res.Refused != 1 || !strings.Contains(res.Outcomes[0].Reason, "joined from left, right") {
		t.Errorf("%+v (%v)", res, err)
	}
}
