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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/httpapi"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

func main() {
	flag.Usage = func() {
		w := flag.CommandLine.Output()
		fmt.Fprintf(w, "Usage: %s\n\nServes Tributary's REST API. Configuration comes from the environment:\n\n", os.Args[0])
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
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := run(cfg, log); err != nil {
		log.Error("apiserver stopped", "error", err.Error())
		os.Exit(1)
	}
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

	gin.SetMode(gin.ReleaseMode)
	srv := &http.Server{
		Handler:           httpapi.New(cfg, db, log).Handler(),
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
