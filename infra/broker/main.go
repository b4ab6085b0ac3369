// Command broker runs a single-process Kafka-protocol broker for the local
// stack: franz-go's kfake cluster, persisted to a data directory so topics and
// committed offsets survive a restart.
//
// It is a development broker, not a replacement for Kafka: one process that
// serves one or more brokers (-brokers) over one shared log, so nothing is
// replicated because nothing needs to be. Clients (kafka-go, franz-go, kcat)
// speak the real protocol to it. With -control-addr, an HTTP API removes and
// adds brokers while it runs (control.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// config is everything the broker reads from its flags.
type config struct {
	host       string
	port       int
	brokers    int
	control    string
	dataDir    string
	partitions int
	syncWrites bool
	minSession time.Duration
	logLevel   string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("broker failed", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: broker [flags]\n\nRuns a Kafka-protocol broker (franz-go kfake) for local development.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&cfg.port, "port", 9092, "port of the first broker; broker i listens on port+i (0: random ports)")
	fs.IntVar(&cfg.brokers, "brokers", 1, "brokers in the cluster, node ids 0..brokers-1")
	fs.StringVar(&cfg.control, "control-addr", "", "host:port of the HTTP API that removes and adds brokers (empty: none); see GET /brokers")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "directory that keeps topics, records and committed offsets across restarts (empty: in memory only)")
	fs.IntVar(&cfg.partitions, "partitions", 6, "partitions of an auto-created topic")
	fs.BoolVar(&cfg.syncWrites, "sync-writes", false, "fsync every produced batch (slower; survives a machine crash, not only a process crash)")
	fs.DurationVar(&cfg.minSession, "group-min-session-timeout", 6*time.Second, "smallest consumer-group session timeout the broker accepts")
	fs.StringVar(&cfg.logLevel, "log-level", "none", "kfake log level: none, error, warn, info, debug")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.brokers < 1 || cfg.brokers > 16 {
		return cfg, fmt.Errorf("-brokers %d: must be 1..16", cfg.brokers)
	}
	if cfg.port < 0 || (cfg.port > 0 && cfg.port+cfg.brokers-1 > 65535) {
		return cfg, fmt.Errorf("-port %d: the ports of %d brokers must be within 1..65535 (or 0 for random ones)", cfg.port, cfg.brokers)
	}
	if cfg.control != "" {
		if _, _, err := net.SplitHostPort(cfg.control); err != nil {
			return cfg, fmt.Errorf("-control-addr %q: %w", cfg.control, err)
		}
	}
	if cfg.partitions < 1 {
		return cfg, fmt.Errorf("-partitions %d: must be at least 1", cfg.partitions)
	}
	if _, ok := logLevels[cfg.logLevel]; !ok {
		return cfg, fmt.Errorf("-log-level %q: must be none, error, warn, info or debug", cfg.logLevel)
	}
	return cfg, nil
}

var logLevels = map[string]kfake.LogLevel{
	"none":  kfake.LogLevelNone,
	"error": kfake.LogLevelError,
	"warn":  kfake.LogLevelWarn,
	"info":  kfake.LogLevelInfo,
	"debug": kfake.LogLevelDebug,
}

func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	ports := make([]int, cfg.brokers)
	for i := range ports {
		if cfg.port > 0 {
			ports[i] = cfg.port + i
		}
	}
	set := newBrokerSet(cfg.host)
	opts := []kfake.Opt{
		kfake.Ports(ports...), // one broker per port
		// kfake always asks for 127.0.0.1; set.listen binds -host instead.
		kfake.ListenFn(set.listen),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(cfg.partitions),
		kfake.GroupMinSessionTimeout(cfg.minSession),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, logLevels[cfg.logLevel])),
	}
	if cfg.dataDir != "" {
		if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		added, err := recoverTopics(cfg.dataDir)
		if err != nil {
			logger.Warn("topic recovery skipped", "err", err)
		} else if len(added) > 0 {
			logger.Warn("recovered topics missing from topics.json after an unclean stop", "topics", added)
		}
		opts = append(opts, kfake.DataDir(cfg.dataDir))
	}
	if cfg.syncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start cluster: %w", err)
	}
	for i, addr := range cluster.ListenAddrs() { // node i is the i-th
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		set.ports[int32(i)], set.live[int32(i)] = port, true
	}
	logger.Info("broker ready", "brokers", set.list(), "data_dir", cfg.dataDir, "partitions", cfg.partitions)
	if cfg.control != "" {
		cctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			if err := control(cctx, cfg.control, cluster, set, logger); err != nil {
				cancel(err)
			}
		}()
		ctx = cctx
	}
	<-ctx.Done()
	logger.Info("broker stopping")
	// Close flushes persisted state to the data directory.
	cluster.Close()
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return nil
	}
	return context.Cause(ctx)
}
