package worker

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestNewRedisClient: each form of TRIBUTARY_REDIS_ADDR gives the client
// go-redis users expect, and a bad one an error that names the part at
// fault without echoing a password.
func TestNewRedisClient(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		cluster []string // nil: a single-server client
		db      int
		err     string
	}{
		{addr: "127.0.0.1:6379"},
		{addr: "redis://:secret@127.0.0.1:6380/2", db: 2},
		{addr: "127.0.0.1:16379, 127.0.0.1:16380,127.0.0.1:16381", cluster: []string{"127.0.0.1:16379", "127.0.0.1:16380", "127.0.0.1:16381"}},
		{addr: "redis://127.0.0.1:16379?addr=127.0.0.1:16380&addr=127.0.0.1:16381", cluster: []string{"127.0.0.1:16379", "127.0.0.1:16380", "127.0.0.1:16381"}},
		{addr: "", err: "empty"},
		{addr: "127.0.0.1", err: `"127.0.0.1"`},
		{addr: "127.0.0.1:6379,", err: `""`},
		{addr: "redis://:secret@127.0.0.1:6379/x", err: "invalid database number"},
		{addr: "redis://:secret@127.0.0.1:bad", err: "invalid port"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			rdb, err := NewRedisClient(tc.addr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q echoes the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			switch c := rdb.(type) {
			case *redis.ClusterClient:
				if tc.cluster == nil {
					t.Fatalf("a cluster client for %q, want a single-server one", tc.addr)
				}
				if got := c.Options().Addrs; !slices.Equal(got, tc.cluster) {
					t.Errorf("cluster seeds %v, want %v", got, tc.cluster)
				}
			case *redis.Client:
				if tc.cluster != nil {
					t.Fatalf("a single-server client for %q, want a cluster client", tc.addr)
				}
				if c.Options().DB != tc.db {
					t.Errorf("db %d, want %d", c.Options().DB, tc.db)
				}
			default:
				t.Fatalf("client of type %T", rdb)
			}
		})
	}
}
