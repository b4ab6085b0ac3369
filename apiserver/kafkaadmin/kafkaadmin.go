// Package kafkaadmin answers the API server's questions about a Kafka
// cluster and changes what an operator may change, through franz-go's kadm:
// connectivity, topics and their offsets, consumer groups with their
// members and lag, offset commits and topic creation. It is the API
// server's only Kafka admin client; the worker runtime keeps kafka-go.
//
// An Admin talks to one cluster with its own connections, so one cluster's
// dead brokers never hold a pool another call shares. Every call is bounded
// by its context, and every failure to get an answer wraps ErrUnreachable.
package kafkaadmin

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientID is what the API server's Kafka connections call themselves; it
// is how an operator tells them from workers in a broker's logs.
const ClientID = "tributary-apiserver"

// dialTimeout bounds one TCP connection to a broker; the caller's context
// bounds the whole call.
const dialTimeout = 5 * time.Second

// ErrUnreachable wraps every failure to talk to the cluster (dial, timeout,
// protocol), as opposed to the cluster refusing a request.
var ErrUnreachable = errors.New("kafka cluster unreachable")

func unreachable(err error) error { return fmt.Errorf("%w: %w", ErrUnreachable, err) }

// Admin is a client of one cluster. It is safe for concurrent use; Close
// releases its connections.
type Admin struct {
	seeds []string
	cl    *kgo.Client
	adm   *kadm.Client
}

// Dial returns an Admin of the cluster servers bootstrap. It connects
// lazily: an unreachable cluster fails the first call, not Dial.
func Dial(servers []string) (*Admin, error) {
	cl, err := kgo.NewClient(append(options(servers), kgo.RecordPartitioner(keepPartition{kgo.StickyKeyPartitioner(nil)}))...)
	if err != nil {
		return nil, fmt.Errorf("kafka client of %v: %w", servers, err)
	}
	return &Admin{seeds: servers, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func options(servers []string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(servers...), kgo.ClientID(ClientID),
		kgo.DialTimeout(dialTimeout), kgo.MetadataMinAge(time.Second)}
}

// Close closes the Admin's connections.
func (a *Admin) Close() { a.cl.Close() }

// ValidServer validates one bootstrap server: a non-empty host and a port
// in 1..65535. It returns the reason when it is not one.
func ValidServer(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "must be host:port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "must have a port between 1 and 65535"
	}
	return ""
}
