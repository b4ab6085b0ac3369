// Package kafkax holds the small pieces Tributary adds on top of kafka-go:
// trace-context propagation through record headers, header look-ups and
// writers configured for durability.
package kafkax

import (
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier adapts a record's headers to OpenTelemetry's TextMapCarrier,
// so W3C trace context travels with each message. Set replaces a header of
// the same key instead of adding a second one: a record forwarded by several
// stages keeps exactly one traceparent. Not safe for concurrent use.
type HeaderCarrier struct {
	Headers *[]kafka.Header
}

var _ propagation.TextMapCarrier = HeaderCarrier{}

// Get returns the value of the first header named key, or "".
func (c HeaderCarrier) Get(key string) string {
	return Header(*c.Headers, key)
}

// Set replaces the header named key, or appends it.
func (c HeaderCarrier) Set(key, value string) {
	*c.Headers = SetHeader(*c.Headers, key, value)
}

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, len(*c.Headers))
	for i, h := range *c.Headers {
		keys[i] = h.Key
	}
	return keys
}

// Header returns the value of the first header named key, or "".
func Header(hs []kafka.Header, key string) string {
	for _, h := range hs {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// SetHeader returns hs with the header named key set to value: the first
// header of that name is replaced and any further ones dropped.
func SetHeader(hs []kafka.Header, key, value string) []kafka.Header {
	out := hs[:0:0]
	set := false
	for _, h := range hs {
		if h.Key != key {
			out = append(out, h)
			continue
		}
		if !set {
			out = append(out, kafka.Header{Key: key, Value: []byte(value)})
			set = true
		}
	}
	if !set {
		out = append(out, kafka.Header{Key: key, Value: []byte(value)})
	}
	return out
}

// NewWriter returns a writer to brokers that waits for every in-sync replica
// (RequireAll: kafka-go's default, RequireNone, loses acknowledged
// messages), takes the topic from each message, and flushes a partial batch
// after batchTimeout. WriteMessages returns only once all its messages are
// acknowledged or failed.
func NewWriter(brokers []string, batchTimeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		RequiredAcks: kafka.RequireAll,
		Balancer:     &kafka.Hash{},
		// kafka-go allocates BatchSize messages for every partition batch
		// it starts, however few it fills: at 1000 that was a tenth of a
		// join worker's CPU (makeslice in writeBatch.add).
		BatchSize:              256,
		BatchBytes:             16 << 20,
		BatchTimeout:           batchTimeout,
		AllowAutoTopicCreation: true,
		MaxAttempts:            10,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        time.Second,
	}
}
