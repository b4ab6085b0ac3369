package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nomad "github.com/hashicorp/nomad/api"
	"github.com/redis/go-redis/v9"

	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	e := newEnv(t).withUsers()
	e.do("GET", "/api/v1/clusters/12345", e.tokens["viewer"], "").want(http.StatusNotFound)
	e.do("GET", "/no/such/path", "", "").want(http.StatusNotFound)
	body := string(e.do("GET", "/metrics", "", "").want(http.StatusOK).body)
	for _, want := range []string{
		`tributary_api_requests_total{method="GET",route="/api/v1/clusters/:id",status="404"} 1`,
		`tributary_api_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`tributary_api_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/login"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "12345") {
		t.Error("/metrics labels a series with a raw path")
	}
}

func TestUIServedWithFallbackToIndex(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>tributary ui</html>"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app-1a2b.js"), []byte("console.log(1)"), 0o644)
	secret := filepath.Join(filepath.Dir(dir), "secret.txt")
	os.WriteFile(secret, []byte("not for you"), 0o644)
	e := newEnv(t, func(c *config.Config) { c.UIDir = dir })

	cases := []struct {
		path, want string
		code       int
	}{
		{"/", "tributary ui", 200},
		{"/pipelines/3", "tributary ui", 200}, // the UI's own route, after a reload
		{"/assets/app-1a2b.js", "console.log(1)", 200},
		{"/../secret.txt", "invalid URL path", 400}, // refused, never resolved outside dir
		{"/api/v1/nothing-here", `"code":"not_found"`, 404},
		{"/artifacts/none/1.0.0", `"code":"not_found"`, 404},
	}
	for _, c := range cases {
		r := e.do("GET", c.path, "", "").want(c.code)
		if !strings.Contains(string(r.body), c.want) {
			t.Errorf("GET %s = %q, want it to contain %q", c.path, r.body, c.want)
		}
		if strings.Contains(string(r.body), "not for you") {
			t.Errorf("GET %s served a file outside the UI directory", c.path)
		}
	}
	if cc := e.do("GET", "/assets/app-1a2b.js", "", "").hdr.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("hashed asset Cache-Control = %q", cc)
	}
	e.do("POST", "/", "", "{}").want(http.StatusNotFound)
}

func TestReadyzNamesEachDependency(t *testing.T) {
	rdb, _ := stacktest.Redis(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: stacktest.Nomad(t)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(nc, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, []Option{WithRedis(rdb), WithScheduler(sched)})
	var ok struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	e.do("GET", "/readyz", "", "").want(http.StatusOK).decode(&ok)
	if ok.Checks["mysql"] != "ok" || ok.Checks["redis"] != "ok" || ok.Checks["nomad"] != "ok" {
		t.Fatalf("checks = %v", ok.Checks)
	}

	// Redis on a port nothing listens on: 503 naming redis, the rest ok.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	e = newEnvOpts(t, []Option{WithRedis(dead), WithScheduler(sched)})
	r := e.do("GET", "/readyz", "", "").want(http.StatusServiceUnavailable)
	r.decode(&ok)
	if ok.Checks["mysql"] != "ok" || ok.Checks["redis"] == "ok" || ok.Checks["nomad"] != "ok" {
		t.Fatalf("checks = %v", ok.Checks)
	}
	if !strings.Contains(string(r.body), "redis not reachable") {
		t.Fatalf("body %s does not name redis", r.body)
	}
}
