package kafkaadmin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Bounds of the message browser.
const (
	// MaxBrowse is the most messages one Browse returns.
	MaxBrowse = 500
	// MaxShownBytes is the most bytes of a key, value or header value
	// Browse returns; a longer one is cut there and marked Truncated.
	MaxShownBytes = 64 << 10
)

// ErrUnknownPartition is a partition the topic does not have.
var ErrUnknownPartition = errors.New("no such partition")

// Where Browse starts reading a partition.
type StartKind int

const (
	// StartLatest reads the partition's last records: the limit before
	// its high watermark.
	StartLatest StartKind = iota
	// StartEarliest reads from the oldest record the partition keeps.
	StartEarliest
	// StartOffset reads from an offset, clamped to the partition's range.
	StartOffset
	// StartTime reads from the first record whose timestamp is at or
	// after a time.
	StartTime
)

// Start is where Browse reads from: Offset for StartOffset, Time for
// StartTime.
type Start struct {
	Kind   StartKind
	Offset int64
	Time   time.Time
}

// Data is a key, a value or a header value as the browser shows it: the
// bytes as text when they are UTF-8, base64 otherwise, at most
// MaxShownBytes of them.
type Data struct {
	Text      string `json:"text"`
	Encoding  string `json:"encoding"`            // "utf8" or "base64"
	Size      int    `json:"size"`                // bytes in the record
	Truncated bool   `json:"truncated,omitempty"` // Text holds only the first MaxShownBytes of them
}

// MessageHeader is one record header.
type MessageHeader struct {
	Key   string `json:"key"`
	Value Data   `json:"value"`
}

// Message is one record of a partition as the browser shows it.
type Message struct {
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	Timestamp time.Time       `json:"timestamp"`
	Key       *Data           `json:"key"`     // null: the record has no key
	Value     *Data           `json:"value"`   // null: a tombstone
	Headers   []MessageHeader `json:"headers"` // in the record's order; a key may repeat
}

// MessagePage is what Browse read from one partition.
type MessagePage struct {
	Topic      string    `json:"topic"`
	Partition  int32     `json:"partition"`
	Partitions int       `json:"partitions"` // how many the topic has
	Start      int64     `json:"start"`      // the oldest offset the partition keeps
	End        int64     `json:"end"`        // its high watermark: the offset the next record will get
	From       int64     `json:"from"`       // the offset reading began at
	Next       int64     `json:"next"`       // the offset after the last message read: where the next page begins
	Messages   []Message `json:"messages"`   // in offset order
}

// Browse reads up to limit (at most MaxBrowse) records of a partition of
// topic from start, never waiting for records not yet written. A topic the
// cluster does not have is ErrUnknownTopic, a partition it lacks
// ErrUnknownPartition; failures to get an answer wrap ErrUnreachable.
func (a *Admin) Browse(ctx context.Context, topic string, partition int32, start Start, limit int) (MessagePage, error) {
	limit = min(max(limit, 1), MaxBrowse)
	page := MessagePage{Topic: topic, Partition: partition, Messages: []Message{}}
	bounds, err := a.TopicBounds(ctx, topic)
	if err != nil {
		return page, err
	}
	page.Partitions = len(bounds)
	var b *Bounds
	for i := range bounds {
		if bounds[i].Partition == partition {
			b = &bounds[i]
		}
	}
	if b == nil {
		return page, fmt.Errorf("%w: topic %s has %d partitions (0 to %d)", ErrUnknownPartition, topic, len(bounds), len(bounds)-1)
	}
	page.Start, page.End = b.Start, b.End
	switch start.Kind {
	case StartEarliest:
		page.From = b.Start
	case StartOffset:
		page.From = min(max(start.Offset, b.Start), b.End)
	case StartTime:
		if page.From, err = a.offsetAt(ctx, topic, partition, start.Time); err != nil {
			return page, err
		}
		page.From = min(max(page.From, b.Start), b.End)
	default:
		page.From = max(b.Start, b.End-int64(limit))
	}
	page.Next = page.From
	err = a.read(ctx, topic, partition, page.From, b.End, limit, func(r *kgo.Record) {
		page.Messages = append(page.Messages, toMessage(r))
		page.Next = r.Offset + 1
	})
	if err != nil {
		return page, err
	}
	if len(page.Messages) < limit {
		// Everything below the high watermark was read (offsets past the
		// last record were markers or compacted away).
		page.Next = max(page.Next, b.End)
	}
	return page, nil
}

// offsetAt is the offset of the first record of a partition whose
// timestamp is at or after t, or its high watermark when there is none.
func (a *Admin) offsetAt(ctx context.Context, topic string, partition int32, t time.Time) (int64, error) {
	los, err := a.adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topic)
	if err != nil {
		return 0, unreachable(err)
	}
	lo, ok := los.Lookup(topic, partition)
	switch {
	case !ok:
		return 0, unreachable(fmt.Errorf("offset of %s/%d at %s: no answer for it", topic, partition, t.Format(time.RFC3339)))
	case lo.Err != nil:
		return 0, unreachable(fmt.Errorf("offset of %s/%d at %s: %w", topic, partition, t.Format(time.RFC3339), lo.Err))
	}
	return lo.Offset, nil
}

func toMessage(r *kgo.Record) Message {
	m := Message{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UTC(), Headers: []MessageHeader{}}
	if r.Key != nil {
		k := shown(r.Key)
		m.Key = &k
	}
	if r.Value != nil {
		v := shown(r.Value)
		m.Value = &v
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, MessageHeader{Key: h.Key, Value: shown(h.Value)})
	}
	return m
}

// shown is b as Data: a copy of at most MaxShownBytes of it, so that the
// fetch's buffers are not kept by the page.
func shown(b []byte) Data {
	d := Data{Size: len(b), Encoding: "utf8"}
	cut := b
	if len(cut) > MaxShownBytes {
		cut, d.Truncated = cut[:MaxShownBytes], true
		// Do not split a UTF-8 sequence: back up to the start of the
		// rune the cut falls in (at most 3 bytes).
		for i := 0; i < utf8.UTFMax-1 && len(cut) > 0 && !utf8.RuneStart(b[len(cut)]); i++ {
			cut = cut[:len(cut)-1]
		}
	}
	if utf8.Valid(cut) {
		d.Text = string(cut)
	} else {
		d.Encoding, d.Text = "base64", base64.StdEncoding.EncodeToString(b[:min(len(b), MaxShownBytes)])
	}
	return d
}
