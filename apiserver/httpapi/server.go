// Package httpapi is the API server's HTTP adapter: Gin routes, auth
// middleware, request decoding and the error-to-status table.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/alerting"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/controlplane"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/instances"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/apiserver/series"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/scheduler"
)

// Server holds the HTTP handlers' dependencies. Its Handler is safe for
// concurrent use.
type Server struct {
	cfg        config.Config
	db         *mysql.DB
	events     *events.Log
	tokens     *auth.Tokens
	log        *slog.Logger
	bcryptCost int

	// Optional dependencies: a route that needs a missing one answers 503
	// naming it (see need).
	sched   *scheduler.Scheduler  // deploy, scale, stop, status
	redis   redis.UniversalClient // heartbeats, pending joins
	client  *http.Client          // Jaeger's query API
	series  *series.Client        // Prometheus: workers' series
	tput    throughput.Reader     // workers' throughput; nil: not measured (a warning says so)
	forward *alerting.Forwarder   // alert changes to a chat webhook

	alerts   *alerting.Store
	receiver *alerting.Receiver

	// plane deploys, stops, scales and rolls back workers; its loops
	// (reconciler, autoscaler) run from main, never from here.
	plane *controlplane.Plane

	metrics *httpMetrics

	logins *failureLimiter // failed logins per client address and email
}

// Option adjusts a Server.
type Option func(*Server)

// WithBcryptCost sets the bcrypt cost of new password hashes (tests use
// bcrypt.MinCost).
func WithBcryptCost(cost int) Option { return func(s *Server) { s.bcryptCost = cost } }

// WithClock sets the clock tokens are issued and checked with.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.tokens = auth.NewTokens(s.cfg.JWTSecret, s.cfg.JWTIssuer, s.cfg.JWTTTL, now) }
}

// WithScheduler gives the server the scheduler deploy routes go through.
func WithScheduler(sch *scheduler.Scheduler) Option { return func(s *Server) { s.sched = sch } }

// WithControlPlane gives the server the control plane its deploy, scale,
// stop and rollback routes call; without it New builds one over the
// server's database and scheduler (whose loops nobody runs).
func WithControlPlane(p *controlplane.Plane) Option { return func(s *Server) { s.plane = p } }

// WithRedis gives the server the workers' Redis, read for heartbeats and
// pending joins.
func WithRedis(rdb redis.UniversalClient) Option { return func(s *Server) { s.redis = rdb } }

// WithPrometheus gives the server the Prometheus client the series route
// reads.
func WithPrometheus(c *series.Client) Option { return func(s *Server) { s.series = c } }

// WithThroughput gives the server the reader of workers' throughput
// (Prometheus' or a running Sampler); main picks it.
func WithThroughput(r throughput.Reader) Option { return func(s *Server) { s.tput = r } }

// WithAlertForwarder gives the server the forwarder (whose Run main
// starts) that alert changes are handed to.
func WithAlertForwarder(f *alerting.Forwarder) Option { return func(s *Server) { s.forward = f } }

// New returns the server; cfg must come from config.FromEnv.
func New(cfg config.Config, db *mysql.DB, log *slog.Logger, opts ...Option) *Server {
	s := &Server{cfg: cfg, db: db, log: log, bcryptCost: auth.DefaultBcryptCost,
		tokens: auth.NewTokens(cfg.JWTSecret, cfg.JWTIssuer, cfg.JWTTTL, time.Now),
		client: &http.Client{Timeout: 10 * time.Second}, metrics: newHTTPMetrics()}
	for _, o := range opts {
		o(s)
	}
	if db != nil { // tests of the middleware alone run without a database
		s.events = events.New(db.SQL())
		if s.plane == nil {
			s.plane = controlplane.New(db, s.sched, s.events, log, controlplane.ConfigFrom(cfg))
		}
		s.alerts = alerting.NewStore(db.SQL())
		s.receiver = alerting.NewReceiver(s.alerts, s.events, db.WorkerID, s.forward, log)
		s.metrics.registry.MustRegister(alerting.NewFiringCollector(s.alerts, log))
		if s.sched != nil {
			s.metrics.registry.MustRegister(instances.New(db.DesiredInstances, s.sched, log))
		}
	}
	s.logins = newFailureLimiter(MaxLoginKeys, time.Now)
	return s
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := gin.New()
	// gin trusts every proxy unless told otherwise, so any client could
	// name its own address in X-Forwarded-For. The list was validated by
	// config; should gin still refuse it, trust none rather than all.
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		s.log.Error("TRIBUTARY_TRUSTED_PROXIES refused; trusting no proxy", "error", err.Error())
		_ = r.SetTrustedProxies(nil)
	}
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(withRequestID, s.metrics.observe, s.accessLog, gin.CustomRecoveryWithWriter(nil, s.recovered), s.cors(s.cfg.CORSOrigins))
	notFound := func(c *gin.Context) { s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no such route")) }
	if serveUI := ui(s.cfg.UIDir); serveUI != nil {
		r.NoRoute(serveUI, notFound)
	} else {
		r.NoRoute(notFound)
	}
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, apiserver.Errorf(apiserver.CodeMethod, "method not allowed on this route"))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metrics.handler())
	s.mountDocs(r)

	// The original service's API, byte-compatible.
	r.GET("/api/consumer_configs", s.legacy(apiserver.RoleViewer), s.listConsumerConfigs)
	r.POST("/api/consumer_configs", s.legacy(apiserver.RoleEditor), s.upsertConsumerConfigs)
	r.GET("/api/consumer_configs/:id", s.legacy(apiserver.RoleViewer), s.getConsumerConfig)
	r.PUT("/api/consumer_configs/:id", s.legacy(apiserver.RoleEditor), s.putConsumerConfig)
	r.DELETE("/api/consumer_configs/:id", s.legacy(apiserver.RoleEditor), s.deleteConsumerConfig)

	v1 := r.Group("/api/v1")
	v1.POST("/auth/register", s.register) // checks its own auth: the first user needs none
	v1.POST("/auth/login", s.login)
	v1.GET("/auth/me", s.require(apiserver.RoleViewer), s.me)
	s.mountUsers(v1) // users.go: admins list and manage users

	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.GET("/clusters", viewer, s.listClusters)
	v1.POST("/clusters", editor, s.createCluster)
	v1.GET("/clusters/:id", viewer, s.getCluster)
	v1.PUT("/clusters/:id", editor, s.putCluster)
	v1.DELETE("/clusters/:id", editor, s.deleteCluster)
	v1.POST("/clusters/:id/check", viewer, s.checkCluster)
	v1.GET("/clusters/:id/topics", viewer, s.listTopics)
	v1.POST("/clusters/:id/topics", editor, s.createTopic)
	v1.GET("/clusters/:id/topics/:topic/messages", viewer, s.browseMessages)

	// Each area mounts its own routes; see the file named after it.
	s.mountFunctions(r, v1) // functions.go: binaries and the artifact download route
	s.mountWorkers(v1)      // workers.go: CRUD, versions, rollback
	s.mountPipelines(v1)    // pipelines.go: the editor's graph
	s.mountDeploy(v1)       // deploy.go: deploy, scale, stop, status
	s.mountLogs(v1)         // logs.go: an allocation's log tail
	s.mountMonitoring(v1)   // monitoring.go: lag, throughput, health, errors
	s.mountDeadLetters(v1)  // deadletters.go: browse and redrive
	s.mountOffsets(v1)      // offsets.go: reset a worker's group (replay)
	s.mountTraces(v1)       // traces.go: Jaeger's traces of a worker
	s.mountEvents(v1)       // events.go: the event log
	s.mountSeries(v1)       // series.go: workers' history from Prometheus
	s.mountAlerts(v1)       // alerts.go: Alertmanager's webhook and the alerts it sent
	return r
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz answers 200 when the database, Redis and Nomad all answer within
// two seconds, and 503 naming each one that does not. A dependency the
// server was not given is reported as "not configured" and does not fail.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"mysql": "ok", "redis": "not configured", "nomad": "not configured"}
	var failed []string
	check := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
			failed = append(failed, name)
		} else {
			checks[name] = "ok"
		}
	}
	check("mysql", s.db.Ping(ctx))
	if s.redis != nil {
		check("redis", s.redis.Ping(ctx).Err())
	}
	if s.sched != nil {
		check("nomad", s.sched.Ping(ctx))
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks,
			"error": errorDetail{Code: apiserver.CodeUnavailable, Message: strings.Join(failed, ", ") + " not reachable"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

// need fails the request with 503 naming what is missing when a route's
// optional dependency was not configured; it returns false then.
func (s *Server) need(c *gin.Context, ok bool, what string) bool {
	if !ok {
		s.fail(c, apiserver.Errorf(apiserver.CodeUnavailable, "%s is not configured on this server", what))
	}
	return ok
}

// notifyChanged tells the reconciler that the desired workers changed
// (created, updated, deleted, deployed or stopped); see
// controlplane.Plane.Notify.
func (s *Server) notifyChanged() { s.plane.Notify() }
