package stacktest

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kfake starts a private in-process Kafka-protocol cluster on random
// 127.0.0.1 ports (about a millisecond) and returns its broker addresses. It
// auto-creates topics with the given default partition count and is closed
// when the test ends. Extra options are appended to those defaults.
func Kfake(t testing.TB, partitions int, opts ...kfake.Opt) []string {
	t.Helper()
	all := append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.GroupMinSessionTimeout(time.Second),
	}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		t.Fatalf("start kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}
