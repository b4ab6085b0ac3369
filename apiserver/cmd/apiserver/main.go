// Command apiserver serves Tributary's REST API. It is configured only from
// the environment; run it with -h for the list of variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	nomad "github.com/hashicorp/nomad/api"
	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/controlplane"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/httpapi"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/apiserver/series"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/worker"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "set-password" {
		os.Exit(setPassword(os.Args[2:], os.Stdin))
	}
	flag.Usage = func() {
		w := flag.CommandLine.Output()
		fmt.Fprintf(w, "Usage: %s\n       %s set-password [-role ROLE] EMAIL < password\n\n"+
			"Serves Tributary's REST API. Configuration comes from the environment:\n\n", os.Args[0], os.Args[0])
		for _, v := range config.Vars {
			fmt.Fprintf(w, "  %-28s %s (default %s)\n", v.Name, v.Help, v.Default)
		}
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "apiserver: configuration:\n%v\n", err)
		os.Exit(2)
	}
	log, closeLog, err := newLogger(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "apiserver: %v\n", err)
		os.Exit(1)
	}
	defer closeLog()
	if err := run(cfg, log); err != nil {
		closeLog()
		log.Error("apiserver stopped", "error", err.Error())
		os.Exit(1)
	}
}

// newLogger logs JSON lines to stdout and, when cfg.LogDir is set, also
// appends them to <LogDir>/apiserver.log (rotation is left to the
// operator's logrotate, with copytruncate).
func newLogger(cfg config.Config) (*slog.Logger, func(), error) {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	console := slog.NewJSONHandler(os.Stdout, opts)
	if cfg.LogDir == "" {
		return slog.New(console), func() {}, nil
	}
	if err := os.MkdirAll(cfg.LogDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("TRIBUTARY_LOG_DIR: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(cfg.LogDir, "apiserver.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("TRIBUTARY_LOG_DIR: %w", err)
	}
	return slog.New(slog.NewMultiHandler(console, slog.NewJSONHandler(f, opts))), func() { f.Close() }, nil
}

// dependencies connects to Redis and Nomad. Neither is dialled here: both
// clients connect lazily, /readyz reports whether they answer, and the
// routes that need them answer 503 while they do not.
func dependencies(cfg config.Config) ([]httpapi.Option, redis.UniversalClient, *scheduler.Scheduler, error) {
	rdb, err := worker.NewRedisClient(cfg.RedisAddr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("TRIBUTARY_REDIS_ADDR: %w", err)
	}
	nomadCfg := nomad.DefaultConfig()
	nomadCfg.Address = cfg.NomadAddr
	nc, err := nomad.NewClient(nomadCfg)
	if err != nil {
		rdb.Close()
		return nil, nil, nil, fmt.Errorf("nomad client: %w", err)
	}
	sched, err := scheduler.New(nc, cfg.JobTemplate)
	if err != nil {
		rdb.Close()
		return nil, nil, nil, fmt.Errorf("TRIBUTARY_JOB_TEMPLATE: %w", err)
	}
	return []httpapi.Option{httpapi.WithRedis(rdb)}, rdb, sched, nil
}

// observability starts what reads and forwards monitoring data, until ctx
// ends: the throughput sampler when there is no Prometheus, the alert
// forwarder when a chat webhook is configured, and the alerts' pruner.
func observability(ctx context.Context, cfg config.Config, db *mysql.DB, ev *events.Log, log *slog.Logger) ([]httpapi.Option, error) {
	var opts []httpapi.Option
	if cfg.PrometheusURL != "" {
		pc, err := series.New(cfg.PrometheusURL)
		if err != nil {
			return nil, fmt.Errorf("TRIBUTARY_PROMETHEUS_URL: %w", err)
		}
		opts = append(opts, httpapi.WithPrometheus(pc), httpapi.WithThroughput(throughput.FromPrometheus(pc)))
	} else {
		sampler := throughput.NewSampler(throughput.SamplerOptions{Timeout: cfg.KafkaTimeout, Log: log})
		go sampler.Run(ctx)
		opts = append(opts, httpapi.WithThroughput(sampler))
	}
	if cfg.AlertWebhookURL != "" {
		fwd := alerting.NewForwarder(cfg.AlertWebhookURL, alerting.ForwarderOptions{Events: ev, Log: log})
		go fwd.Run(ctx)
		opts = append(opts, httpapi.WithAlertForwarder(fwd))
	}
	go alerting.NewStore(db.SQL()).RunPruner(ctx, cfg.AlertsRetention, log.Warn)
	prom := "(none: throughput sampled from Kafka)"
	if u, err := url.Parse(cfg.PrometheusURL); err == nil && cfg.PrometheusURL != "" {
		prom = u.Redacted() // a password in the URL stays out of the log
	}
	log.Info("observability", "prometheus", prom, "alert_webhook", cfg.AlertmanagerToken != "",
		"alert_forwarding", cfg.AlertWebhookURL != "")
	return opts, nil
}

// artifacts records TRIBUTARY_ARTIFACT_URL when set, and imports the
// binaries servers before migration 11 kept on their disk.
func artifacts(ctx context.Context, cfg config.Config, db *mysql.DB, log *slog.Logger) error {
	if cfg.ArtifactURL != "" {
		if err := db.SetArtifactBaseURL(ctx, cfg.ArtifactURL); err != nil {
			return err
		}
	}
	base, err := db.ArtifactBaseURL(ctx, cfg.PublicURL)
	if err != nil {
		return err
	}
	log.Info("artifacts", "base_url", base, "store", "mysql")
	dir := filepath.Join(cfg.DataDir, "artifacts")
	imported, missing, err := db.ImportArtifactFiles(ctx, dir, log)
	if err != nil {
		return fmt.Errorf("import artifacts from %s: %w", dir, err)
	}
	if imported > 0 {
		log.Info("artifacts imported into the database; the directory is no longer needed", "dir", dir, "imported", imported)
	}
	if len(missing) > 0 {
		log.Warn("function versions without a binary: upload them again under a new version", "count", len(missing), "sha256", missing)
	}
	return nil
}

func run(cfg config.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.EphemeralSecret {
		log.Warn("dev mode: TRIBUTARY_JWT_SECRET unset, using a random secret; tokens die with this process")
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := mysql.Open(startCtx, cfg.MySQLDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(startCtx)
	if err != nil {
		return err
	}
	log.Info("database ready", "dsn", cfg.RedactedDSN(), "migrations_applied", n)
	if err := artifacts(startCtx, cfg, db, log); err != nil {
		return err
	}

	opts, rdb, sched, err := dependencies(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()

	gin.SetMode(gin.ReleaseMode)
	ev := events.New(db.SQL())
	obs, err := observability(ctx, cfg, db, ev, log)
	if err != nil {
		return err
	}
	opts = append(opts, obs...)
	plane := controlplane.New(db, sched, ev, log, controlplane.ConfigFrom(cfg))
	api := httpapi.New(cfg, db, log, append(opts, httpapi.WithScheduler(sched), httpapi.WithControlPlane(plane))...)
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "legacy_anonymous", cfg.LegacyAnonymous, "dev", cfg.Dev)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go func() {
		if err := plane.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("control plane stopped", "error", err.Error())
		}
	}()
	go ev.RunPruner(ctx, cfg.EventsRetention, log.Warn)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
