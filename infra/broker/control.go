package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The control API moves brokers in and out of the running cluster, as an
// operator decommissions a Kafka broker or a machine under one dies:
//
//	GET  /brokers                  the brokers now in the cluster: [{"node":0,"addr":"127.0.0.1:16092"}, ...]
//	POST /brokers/{node}/remove    node leaves: its listener and every client connection to it close,
//	                               and the partitions it led get a new leader among the others
//	POST /brokers/{node}/add       node comes back on its own port
//	GET  /topics/{topic}/leaders   the leader of each partition: {"0":1,"1":2,...}
//
// kfake keeps one log per partition in the process, which every broker
// serves: a removed broker takes no data with it, as in a Kafka cluster
// whose replicas were all in sync. Leadership moves at once, the way a
// controller elects a new leader from the in-sync replicas.

// brokerSet tracks the brokers of the cluster and the client connections
// each accepted, so that removing one cuts its clients off as a dead
// broker would (kfake only closes the listener). It is safe for
// concurrent use.
type brokerSet struct {
	host string

	mu    sync.Mutex
	ports map[int32]int             // node -> port, every node ever started
	conns map[int]map[net.Conn]bool // port -> open client connections
	live  map[int32]bool            // nodes in the cluster now
}

func newBrokerSet(host string) *brokerSet {
	return &brokerSet{host: host, ports: map[int32]int{}, conns: map[int]map[net.Conn]bool{}, live: map[int32]bool{}}
}

// listen is kfake's ListenFn: it binds -host and records what it accepts.
func (s *brokerSet) listen(network, address string) (net.Listener, error) {
	_, p, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(network, net.JoinHostPort(s.host, p))
	if err != nil {
		return nil, err
	}
	return &trackedListener{Listener: ln, set: s, port: ln.Addr().(*net.TCPAddr).Port}, nil
}

type trackedListener struct {
	net.Listener
	set  *brokerSet
	port int
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.set.mu.Lock()
	if l.set.conns[l.port] == nil {
		l.set.conns[l.port] = map[net.Conn]bool{}
	}
	l.set.conns[l.port][c] = true
	l.set.mu.Unlock()
	return &trackedConn{Conn: c, set: l.set, port: l.port}, nil
}

type trackedConn struct {
	net.Conn
	set  *brokerSet
	port int
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.conns[c.port], c.Conn)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}

// cut closes every client connection accepted on port.
func (s *brokerSet) cut(port int) int {
	s.mu.Lock()
	conns := s.conns[port]
	delete(s.conns, port)
	s.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	return len(conns)
}

// brokerInfo is one broker of GET /brokers.
type brokerInfo struct {
	Node int32  `json:"node"`
	Addr string `json:"addr"`
}

func (s *brokerSet) list() []brokerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []brokerInfo
	for n := range s.live {
		out = append(out, brokerInfo{n, net.JoinHostPort(s.host, strconv.Itoa(s.ports[n]))})
	}
	slices.SortFunc(out, func(a, b brokerInfo) int { return int(a.Node - b.Node) })
	return out
}

// control serves the control API on addr until ctx ends.
func control(ctx context.Context, addr string, cluster *kfake.Cluster, set *brokerSet, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /brokers", func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, set.list()) })
	mux.HandleFunc("POST /brokers/{node}/remove", func(w http.ResponseWriter, r *http.Request) {
		node, ok := nodeOf(w, r, set)
		if !ok {
			return
		}
		if err := cluster.RemoveNode(node); err != nil {
			reply(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		set.mu.Lock()
		delete(set.live, node)
		port := set.ports[node]
		set.mu.Unlock()
		cut := set.cut(port)
		logger.Warn("broker removed", "node", node, "port", port, "connections_closed", cut)
		reply(w, http.StatusOK, map[string]any{"node": node, "connections_closed": cut, "brokers": set.list()})
	})
	mux.HandleFunc("POST /brokers/{node}/add", func(w http.ResponseWriter, r *http.Request) {
		node, ok := nodeOf(w, r, set)
		if !ok {
			return
		}
		set.mu.Lock()
		port := set.ports[node]
		set.mu.Unlock()
		if _, _, err := cluster.AddNode(node, port); err != nil {
			reply(w, http.StatusConflict, map[string]string{"error": err.Error()})
			return
		}
		set.mu.Lock()
		set.live[node] = true
		set.mu.Unlock()
		logger.Info("broker added", "node", node, "port", port)
		reply(w, http.StatusOK, map[string]any{"node": node, "brokers": set.list()})
	})
	mux.HandleFunc("GET /topics/{topic}/leaders", func(w http.ResponseWriter, r *http.Request) {
		infos := cluster.PartitionInfos(r.PathValue("topic"))
		if infos == nil {
			reply(w, http.StatusNotFound, map[string]string{"error": "no topic " + strconv.Quote(r.PathValue("topic"))})
			return
		}
		leaders := map[string]int32{}
		for _, p := range infos {
			leaders[strconv.Itoa(int(p.Partition))] = p.Leader
		}
		reply(w, http.StatusOK, leaders)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	logger.Info("control API ready", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// nodeOf reads {node}, which must be a broker this process started.
func nodeOf(w http.ResponseWriter, r *http.Request, set *brokerSet) (int32, bool) {
	n, err := strconv.ParseInt(r.PathValue("node"), 10, 32)
	set.mu.Lock()
	_, known := set.ports[int32(n)]
	set.mu.Unlock()
	if err != nil || !known {
		reply(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("node %q: not a broker of this cluster", r.PathValue("node"))})
		return 0, false
	}
	return int32(n), true
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
