// Package httpapi is the API server's HTTP adapter: Gin routes, auth
// middleware, request decoding and the error-to-status table.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// Server holds the HTTP handlers' dependencies. Its Handler is safe for
// concurrent use.
type Server struct {
	cfg        config.Config
	db         *mysql.DB
	tokens     *auth.Tokens
	log        *slog.Logger
	bcryptCost int
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

// New returns the server; cfg must come from config.FromEnv.
func New(cfg config.Config, db *mysql.DB, log *slog.Logger, opts ...Option) *Server {
	s := &Server{cfg: cfg, db: db, log: log, bcryptCost: auth.DefaultBcryptCost,
		tokens: auth.NewTokens(cfg.JWTSecret, cfg.JWTIssuer, cfg.JWTTTL, time.Now)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(withRequestID, s.accessLog, gin.CustomRecoveryWithWriter(nil, s.recovered), s.cors(s.cfg.CORSOrigins))
	r.NoRoute(func(c *gin.Context) { s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no such route")) })
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, apiserver.Errorf(apiserver.CodeMethod, "method not allowed on this route"))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)

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

	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.GET("/clusters", viewer, s.listClusters)
	v1.POST("/clusters", editor, s.createCluster)
	v1.GET("/clusters/:id", viewer, s.getCluster)
	v1.PUT("/clusters/:id", editor, s.putCluster)
	v1.DELETE("/clusters/:id", editor, s.deleteCluster)
	v1.POST("/clusters/:id/check", viewer, s.checkCluster)
	v1.GET("/clusters/:id/topics", viewer, s.listTopics)
	v1.POST("/clusters/:id/topics", editor, s.createTopic)
	return r
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
