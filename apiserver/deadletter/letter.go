package deadletter

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/worker"
)

// Headers the redrive writes; the others it reads are shared/worker's.
const (
	HeaderRedriveCount = "tributary.redrive.count"
	HeaderRedriveFrom  = "tributary.redrive.from"
)

// runtimePrefix starts every header the runtime and the redrive write
// about a message, as opposed to the message's own headers.
const runtimePrefix = "tributary."

// Topic is w's dead-letter topic: its dead_letter_topic, or the runtime's
// default "<consumer_name>.dlq" (shared/worker's Config.Validate).
func Topic(w apiserver.ConsumerConfig) string {
	if w.DeadLetterTopic != "" {
		return w.DeadLetterTopic
	}
	return w.ConsumerName + ".dlq"
}

// Source is where a dead-lettered message was consumed.
type Source struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Header is a header of the message itself (not one of the tributary.*
// headers decoded into Letter's fields).
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// The encodings of a Letter's Key and Value.
const (
	EncodingUTF8   = "utf8"
	EncodingBase64 = "base64"
)

// Letter is one dead-letter record, decoded. Value and Key are the bytes as
// text when they are UTF-8 and base64 otherwise (Encoding says which).
type Letter struct {
	Partition    int32     `json:"partition"`
	Offset       int64     `json:"offset"`
	Timestamp    time.Time `json:"timestamp"`
	Key          string    `json:"key"`
	Value        string    `json:"value"`
	Encoding     string    `json:"encoding"` // EncodingUTF8 or EncodingBase64, of key and value
	Worker       string    `json:"worker,omitempty"`
	Class        string    `json:"class,omitempty"`
	Error        string    `json:"error,omitempty"`
	Source       *Source   `json:"source"` // null for an expired aggregate
	JoinID       string    `json:"join_id,omitempty"`
	JoinTopics   []string  `json:"join_topics,omitempty"`
	Expired      bool      `json:"expired,omitempty"`
	RedriveCount int       `json:"redrive_count"` // times the message was redriven before it failed this time
	Headers      []Header  `json:"headers"`
	Redriven     *Redriven `json:"redriven"` // null until this record is redriven
}

// Redriven is where a redrive sent a dead letter, and who asked.
type Redriven struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// Decode reads the runtime's headers of a dead-letter record. Malformed
// numbers decode as -1 (partition, offset) or 0 (redrive count) rather
// than failing: a dead letter is shown whatever it carries.
func Decode(r kafkaadmin.Record) Letter {
	l := Letter{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UTC(), Encoding: EncodingUTF8, Headers: []Header{}}
	if utf8.Valid(r.Key) && utf8.Valid(r.Value) {
		l.Key, l.Value = string(r.Key), string(r.Value)
	} else {
		l.Encoding, l.Key, l.Value = EncodingBase64, b64(r.Key), b64(r.Value)
	}
	var src Source
	hasSource := false
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case worker.HeaderWorker:
			l.Worker = v
		case worker.HeaderErrorClass:
			l.Class = v
		case worker.HeaderErrorMessage:
			l.Error = v
		case worker.HeaderSourceTopic:
			src.Topic, hasSource = v, true
		case worker.HeaderSourcePartition:
			src.Partition = int32(number(v, -1))
		case worker.HeaderSourceOffset:
			src.Offset = number(v, -1)
		case worker.HeaderJoinID:
			l.JoinID = v
		case worker.HeaderJoinTopics:
			l.JoinTopics = strings.Split(v, ",")
		case worker.HeaderExpired:
			l.Expired = v == "true"
		case HeaderRedriveCount:
			l.RedriveCount = int(max(number(v, 0), 0))
		case HeaderRedriveFrom:
		default:
			if !strings.HasPrefix(h.Key, runtimePrefix) {
				l.Headers = append(l.Headers, Header{h.Key, v})
			}
		}
	}
	if hasSource {
		l.Source = &src
	}
	return l
}

func number(s string, bad int64) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return bad
	}
	return n
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
