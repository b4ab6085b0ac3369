package httpapi

import (
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// TestLoginBruteForceIsThrottled: after MaxLoginFailures wrong passwords
// the client gets 429 with Retry-After, even with the right password, for
// any email from its address; when the window passes it may log in again.
func TestLoginBruteForceIsThrottled(t *testing.T) {
	e := newEnv(t).withUsers()
	now := time.Now()
	e.srv.logins.now = func() time.Time { return now }
	wrong := `{"email":"admin@example.com","password":"not-the-password"}`
	for i := range MaxLoginFailures {
		if r := e.do("POST", "/api/v1/auth/login", "", wrong); r.code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, r.code)
		}
	}
	r := e.do("POST", "/api/v1/auth/login", "", `{"email":"admin@example.com","password":"admin-password"}`).want(http.StatusTooManyRequests)
	if r.errorOf().Code != apiserver.CodeTooMany || r.hdr.Get("Retry-After") == "" {
		t.Fatalf("throttled answer %s, Retry-After %q", r.body, r.hdr.Get("Retry-After"))
	}
	e.do("POST", "/api/v1/auth/login", "", `{"email":"viewer@example.com","password":"viewer-password"}`).want(http.StatusTooManyRequests)

	now = now.Add(LoginFailureWindow)
	e.do("POST", "/api/v1/auth/login", "", `{"email":"admin@example.com","password":"admin-password"}`).want(http.StatusOK)
}

// TestHostileBodies: content types that are not JSON, oversized and deeply
// nested bodies are refused with the right status; nothing is written.
func TestHostileBodies(t *testing.T) {
	e := newEnv(t).withUsers()
	tok := e.tokens[apiserver.RoleEditor]
	worker := `{"name":"w","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092"}`
	send := func(contentType, body string) resp {
		req := httptest.NewRequest("POST", "/api/v1/workers", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		return resp{t, w.Code, w.Body.Bytes(), w.Header()}
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "not a type"} {
		if r := send(ct, worker); r.code != http.StatusUnsupportedMediaType || r.errorOf().Code != apiserver.CodeMediaType {
			t.Errorf("Content-Type %q: %d %s, want 415", ct, r.code, r.body)
		}
	}
	if n := e.count("consumer_configs"); n != 0 {
		t.Fatalf("%d workers written by refused requests", n)
	}
	big := `{"name":"w","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092","metadata":{"x":"` + strings.Repeat("a", int(e.cfg.MaxBodyBytes)) + `"}}`
	send("application/json", big).want(http.StatusRequestEntityTooLarge)
	deep := `{"name":"w","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092","metadata":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`
	if r := send("application/json", deep); r.code != http.StatusBadRequest {
		t.Errorf("20,000 levels of nesting (under the size limit): %d, want 400", r.code)
	}
	if n := e.count("consumer_configs"); n != 0 {
		t.Fatalf("%d workers written by refused requests", n)
	}
	send("application/json; charset=utf-8", worker).want(http.StatusCreated)
	send("", `{"name":"w2","input_topics":["a"],"kafka_bootstrap_server":"127.0.0.1:9092"}`).want(http.StatusCreated) // no type at all: JSON assumed
}

// TestDatabaseDownIs503: with MySQL unreachable, requests are answered
// 503 with the reason, not 500 and not a hang.
func TestDatabaseDownIs503(t *testing.T) {
	e := newEnv(t).withUsers()
	tok := e.tokens[apiserver.RoleViewer]
	e.do("GET", "/api/v1/workers", tok, "").want(http.StatusOK)
	e.sql.Close() // every later query fails as if the server were gone
	for _, path := range []string{"/api/v1/workers", "/api/v1/pipelines", "/api/consumer_configs"} {
		r := e.do("GET", path, tok, "").want(http.StatusServiceUnavailable)
		if got := r.errorOf(); got.Code != apiserver.CodeUnavailable || !strings.Contains(got.Message, "database") {
			t.Errorf("GET %s with the database down: %+v", path, got)
		}
	}

	// A server whose MySQL refuses connections answers the same way.
	dead, err := sql.Open("mysql", "u:p@tcp(127.0.0.1:1)/none?timeout=1s&parseTime=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	s := New(e.cfg, mysql.New(dead), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := httptest.NewRequest("GET", "/api/v1/workers", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if r := (resp{t, w.Code, w.Body.Bytes(), w.Header()}); r.code != http.StatusServiceUnavailable || r.errorOf().Code != apiserver.CodeUnavailable {
		t.Errorf("MySQL refusing connections: %d %s", r.code, r.body)
	}
}
