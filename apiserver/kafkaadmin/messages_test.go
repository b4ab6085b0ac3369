package kafkaadmin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

func offsetsOf(p MessagePage) []int64 {
	out := []int64{}
	for _, m := range p.Messages {
		out = append(out, m.Offset)
	}
	return out
}

func TestBrowse(t *testing.T) {
	brokers := stacktest.Kfake(t, 2)
	a := dial(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.CreateTopic(ctx, "docs", 2, 1); err != nil {
		t.Fatal(err)
	}
	// Ten records on partition 1, an hour apart in their timestamps, then
	// a tombstone without a key, a big value and a binary one.
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	var recs []Record
	for i := range 10 {
		recs = append(recs, Record{Topic: "docs", Partition: 1, Key: fmt.Appendf(nil, "k%d", i),
			Value: fmt.Appendf(nil, `{"id":%d,"text":"é"}`, i), Timestamp: t0.Add(time.Duration(i) * time.Hour),
			Headers: []Header{{"traceparent", []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}, {"tributary.worker", []byte("w")}}})
	}
	big := strings.Repeat("€", MaxShownBytes/3+10) // 3 bytes a rune: the cut falls inside one
	recs = append(recs,
		Record{Topic: "docs", Partition: 1, Timestamp: t0.Add(10 * time.Hour)},
		Record{Topic: "docs", Partition: 1, Value: []byte(big), Timestamp: t0.Add(11 * time.Hour)},
		Record{Topic: "docs", Partition: 1, Value: []byte{0xff, 0x00, 0xfe}, Timestamp: t0.Add(12 * time.Hour)})
	if _, err := a.Produce(ctx, recs); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		start Start
		limit int
		want  string
		next  int64
	}{
		{"latest", Start{Kind: StartLatest}, 3, "[10 11 12]", 13},
		{"latest more than there are", Start{Kind: StartLatest}, 50, "[0 1 2 3 4 5 6 7 8 9 10 11 12]", 13},
		{"earliest", Start{Kind: StartEarliest}, 2, "[0 1]", 2},
		{"offset", Start{Kind: StartOffset, Offset: 4}, 3, "[4 5 6]", 7},
		{"offset to the end", Start{Kind: StartOffset, Offset: 11}, 50, "[11 12]", 13},
		{"offset past the end", Start{Kind: StartOffset, Offset: 99}, 5, "[]", 13},
		{"time between records", Start{Kind: StartTime, Time: t0.Add(150 * time.Minute)}, 2, "[3 4]", 5},
		{"time of a record", Start{Kind: StartTime, Time: t0.Add(5 * time.Hour)}, 1, "[5]", 6},
		{"time before all", Start{Kind: StartTime, Time: t0.Add(-time.Hour)}, 1, "[0]", 1},
		{"time after all", Start{Kind: StartTime, Time: t0.Add(48 * time.Hour)}, 5, "[]", 13},
		{"limit above the max", Start{Kind: StartEarliest}, MaxBrowse + 1, "[0 1 2 3 4 5 6 7 8 9 10 11 12]", 13},
	} {
		p, err := a.Browse(ctx, "docs", 1, tc.start, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := fmt.Sprint(offsetsOf(p)); got != tc.want || p.Next != tc.next {
			t.Errorf("%s: offsets %s next %d, want %s next %d", tc.name, got, p.Next, tc.want, tc.next)
		}
		if p.Start != 0 || p.End != 13 || p.Partitions != 2 || p.Topic != "docs" || p.Partition != 1 {
			t.Errorf("%s: page %+v", tc.name, p)
		}
	}

	p, err := a.Browse(ctx, "docs", 1, Start{Kind: StartEarliest}, 50)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Messages[3]
	if m.Key == nil || m.Key.Text != "k3" || m.Value == nil || m.Value.Text != `{"id":3,"text":"é"}` || m.Value.Encoding != "utf8" ||
		m.Value.Size != len(m.Value.Text) || m.Value.Truncated || !m.Timestamp.Equal(t0.Add(3*time.Hour)) ||
		len(m.Headers) != 2 || m.Headers[0].Key != "traceparent" || !strings.HasPrefix(m.Headers[0].Value.Text, "00-0af76519") ||
		m.Headers[1] != (MessageHeader{"tributary.worker", Data{Text: "w", Encoding: "utf8", Size: 1}}) {
		t.Errorf("record 3: %+v", m)
	}
	if tomb := p.Messages[10]; tomb.Key != nil || tomb.Value != nil || tomb.Headers == nil {
		t.Errorf("tombstone without a key: %+v", tomb)
	}
	if v := p.Messages[11].Value; !v.Truncated || v.Size != len(big) || len(v.Text) > MaxShownBytes ||
		len(v.Text) < MaxShownBytes-3 || !utf8.ValidString(v.Text) || !strings.HasPrefix(big, v.Text) || v.Encoding != "utf8" {
		t.Errorf("big value: %d bytes shown of %d, truncated %v, encoding %s", len(v.Text), v.Size, v.Truncated, v.Encoding)
	}
	if v := p.Messages[12].Value; v.Encoding != "base64" || v.Text != base64.StdEncoding.EncodeToString([]byte{0xff, 0, 0xfe}) || v.Size != 3 {
		t.Errorf("binary value: %+v", v)
	}

	// An empty partition reads nothing, from anywhere.
	for _, s := range []Start{{Kind: StartLatest}, {Kind: StartEarliest}, {Kind: StartOffset, Offset: 3}, {Kind: StartTime, Time: t0}} {
		if p, err := a.Browse(ctx, "docs", 0, s, 10); err != nil || len(p.Messages) != 0 || p.From != 0 || p.Next != 0 || p.End != 0 {
			t.Errorf("empty partition from %+v: %+v (%v)", s, p, err)
		}
	}
	if _, err := a.Browse(ctx, "docs", 2, Start{}, 10); !errors.Is(err, ErrUnknownPartition) || !strings.Contains(err.Error(), "2 partitions") {
		t.Errorf("partition 2 of 2: %v", err)
	}
	if _, err := a.Browse(ctx, "nope", 0, Start{}, 10); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("unknown topic: %v", err)
	}
	gone := dial(t, []string{"127.0.0.1:1"})
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	defer scancel()
	if _, err := gone.Browse(sctx, "docs", 0, Start{}, 10); !errors.Is(err, ErrUnreachable) {
		t.Errorf("unreachable cluster: %v", err)
	}
}

func TestShown(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want Data
	}{
		{[]byte{}, Data{Text: "", Encoding: "utf8"}},
		{[]byte("héllo"), Data{Text: "héllo", Encoding: "utf8", Size: 6}},
		{[]byte{0xc3}, Data{Text: "ww==", Encoding: "base64", Size: 1}},
	} {
		if got := shown(tc.in); got != tc.want {
			t.Errorf("shown(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	// Binary longer than the bound: base64 of the first MaxShownBytes.
	bin := make([]byte, MaxShownBytes+5)
	bin[0] = 0xff
	if d := shown(bin); d.Encoding != "base64" || !d.Truncated || d.Size != len(bin) ||
		d.Text != base64.StdEncoding.EncodeToString(bin[:MaxShownBytes]) {
		t.Errorf("long binary: %d chars, truncated %v, size %d", len(d.Text), d.Truncated, d.Size)
	}
	// ASCII cut exactly at the bound.
	if d := shown([]byte(strings.Repeat("a", MaxShownBytes+1))); len(d.Text) != MaxShownBytes || !d.Truncated {
		t.Errorf("ascii: %d shown, truncated %v", len(d.Text), d.Truncated)
	}
}
