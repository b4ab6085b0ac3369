package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/apiserver/throughput"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	m.Run()
}

const testSecret = "test-secret-0123456789abcdef0123456789"

type env struct {
	t       *testing.T
	sql     *sql.DB
	dsn     string // of the private database
	db      *mysql.DB
	srv     *Server
	handler http.Handler
	cfg     config.Config
	tokens  map[apiserver.Role]string
}

// newEnv starts a server on a private, migrated database with one user per
// role and their tokens.
func newEnv(t *testing.T, mutate ...func(*config.Config)) *env {
	t.Helper()
	return newEnvOpts(t, nil, mutate...)
}

// newEnvOpts is newEnv with server options (a scheduler, Redis, ...).
func newEnvOpts(t *testing.T, opts []Option, mutate ...func(*config.Config)) *env {
	t.Helper()
	sqldb, dsn := stacktest.MySQL(t)
	db := mysql.New(sqldb)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"TRIBUTARY_JWT_SECRET": testSecret}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxBodyBytes = 256 << 10
	cfg.WorkerMySQLDSN = dsn // deployed workers read their config from the private database
	for _, m := range mutate {
		m(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	// Throughput from a sampler on a fast clock, unless opts give another.
	sampler := throughput.NewSampler(throughput.SamplerOptions{Every: 100 * time.Millisecond, Log: log})
	go sampler.Run(t.Context())
	s := New(cfg, db, log, append([]Option{WithBcryptCost(bcrypt.MinCost), WithThroughput(sampler)}, opts...)...)
	e := &env{t: t, sql: sqldb, dsn: dsn, db: db, srv: s, handler: s.Handler(), cfg: cfg, tokens: map[apiserver.Role]string{}}
	return e
}

// withUsers registers admin (first user), then editor and viewer, and logs
// each in.
func (e *env) withUsers() *env {
	e.t.Helper()
	e.do("POST", "/api/v1/auth/register", "", `{"email":"admin@example.com","password":"admin-password"}`).want(http.StatusCreated)
	e.tokens[apiserver.RoleAdmin] = e.login("admin@example.com", "admin-password")
	for _, r := range []apiserver.Role{apiserver.RoleEditor, apiserver.RoleViewer} {
		body := `{"email":"` + string(r) + `@example.com","password":"` + string(r) + `-password","role":"` + string(r) + `"}`
		e.do("POST", "/api/v1/auth/register", e.tokens[apiserver.RoleAdmin], body).want(http.StatusCreated)
		e.tokens[r] = e.login(string(r)+"@example.com", string(r)+"-password")
	}
	return e
}

func (e *env) login(email, password string) string {
	e.t.Helper()
	var lr loginResponse
	e.do("POST", "/api/v1/auth/login", "", `{"email":"`+email+`","password":"`+password+`"}`).want(http.StatusOK).decode(&lr)
	return lr.AccessToken
}

type resp struct {
	t    *testing.T
	code int
	body []byte
	hdr  http.Header
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return resp{e.t, w.Code, w.Body.Bytes(), w.Header()}
}

func (r resp) want(code int) resp {
	r.t.Helper()
	if r.code != code {
		r.t.Fatalf("status %d, want %d; body %s", r.code, code, r.body)
	}
	return r
}

func (r resp) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorOf returns the error body, failing when the body is not one.
func (r resp) errorOf() errorDetail {
	r.t.Helper()
	var b errorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		r.t.Fatalf("not an error body: %s (%v)", r.body, err)
	}
	return b.Error
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.sql.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// otherTokens builds the bad tokens of the auth matrix for the user id the
// admin token names.
func (e *env) badTokens() map[string]string {
	e.t.Helper()
	secret := e.cfg.JWTSecret
	admin := apiserver.User{ID: 1, Role: apiserver.RoleAdmin}
	past := auth.NewTokens(secret, e.cfg.JWTIssuer, time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _, err := past.Issue(admin)
	if err != nil {
		e.t.Fatal(err)
	}
	// Tampered: a payload claiming another subject, with the admin's signature.
	parts := strings.Split(e.tokens[apiserver.RoleAdmin], ".")
	other := auth.NewTokens(secret, e.cfg.JWTIssuer, time.Hour, time.Now)
	forged, _, _ := other.Issue(apiserver.User{ID: 3, Role: apiserver.RoleAdmin})
	tampered := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	if tampered == forged {
		e.t.Fatal("tampered token equals a genuine one")
	}
	none := unsignedToken(e.t, e.cfg.JWTIssuer)
	wrongKey := auth.NewTokens([]byte("another-secret-0123456789abcdef0123"), e.cfg.JWTIssuer, time.Hour, time.Now)
	foreign, _, _ := wrongKey.Issue(admin)
	return map[string]string{"expired": expired, "tampered": tampered, "alg none": none, "other key": foreign}
}

// buildOnce returns a function that builds the Go package pkg (a path
// relative to dir) once per test process, stripped as the stack builds
// functions, and returns the binary's bytes.
func buildOnce(dir, pkg string) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		tmp, err := os.MkdirTemp("", "apiserver-build")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, path.Base(pkg))
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		build.Dir = dir
		if b, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", strings.TrimPrefix(pkg, "./"), err, b)
		}
		return os.ReadFile(out)
	})
}
