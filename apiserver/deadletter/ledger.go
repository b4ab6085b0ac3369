package deadletter

import (
	"context"
	"errors"
	"time"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// Key names one dead-letter record on one cluster.
type Key struct {
	Cluster   string // kafkaadmin.Admin.ClusterID
	Topic     string
	Partition int32
	Offset    int64
}

// Entry states.
const (
	StateClaimed = "claimed" // a request is sending it
	StateSent    = "sent"    // Kafka acknowledged it
)

// Target is where a redrive sent (or is sending) a record.
type Target struct {
	Topic     string
	Partition int32 // -1 until sent when the key chooses
	Offset    int64 // -1 until sent
}

// Entry is the ledger's row of one dead-letter record.
type Entry struct {
	Key
	WorkerID  int64
	State     string
	Token     string // the claiming request's
	ClaimedAt time.Time
	Target    Target
	Count     int // the tributary.redrive.count it was sent with
	Actor     string
	SentAt    time.Time
}

// ErrNotClaimed is Confirm or Release by a token that does not hold the
// claim (it was taken over after ClaimTimeout).
var ErrNotClaimed = errors.New("redrive claim not held")

// Ledger records redrives; MySQL's is mysql.DB. Implementations are safe
// for concurrent use by several API servers.
type Ledger interface {
	// Claim stores e as claimed by e.Token unless its key is already
	// sent, or claimed by another token at or after staleBefore. It
	// returns the entry as stored after the call: the claim is e's when
	// the stored Token is e.Token and its State is StateClaimed.
	Claim(ctx context.Context, e Entry, staleBefore time.Time) (Entry, error)
	// Confirm marks k sent to target, if token still holds its claim.
	Confirm(ctx context.Context, k Key, token string, target Target, at time.Time) error
	// Release forgets token's claim of k (the send failed).
	Release(ctx context.Context, k Key, token string) error
	// Sent is the sent entries of one partition with offsets in
	// [from, to], by offset.
	Sent(ctx context.Context, cluster, topic string, partition int32, from, to int64) (map[int64]Entry, error)
}

func isUnknownTopic(err error) bool { return errors.Is(err, kafkaadmin.ErrUnknownTopic) }
