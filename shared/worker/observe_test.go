package worker

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

func TestCountConsumedByTopic(t *testing.T) {
	w := &Worker{cfg: Config{ConsumerName: "count", TopicsInput: []string{"a", "b"}}}
	m := newMetrics(w)
	var msgs []kafka.Message
	for _, topic := range []string{"a", "a", "b", "a", "stray", "b", "b"} {
		msgs = append(msgs, kafka.Message{Topic: topic})
	}
	m.countConsumed(msgs)
	m.countConsumed(msgs[:2])
	for topic, want := range map[string]float64{"a": 5, "b": 3, "stray": 1} {
		if got := testutil.ToFloat64(m.consumed.WithLabelValues(topic)); got != want {
			t.Errorf("consumed{topic=%q} = %v, want %v", topic, got, want)
		}
	}
}
