package httpapi

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	nomad "github.com/hashicorp/nomad/api"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/scheduler"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestOpenAPIMatchesRoutes: every route Gin serves is documented, every
// documented route is served, and the document's references resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	served := map[string]bool{}
	for _, ri := range e.handler.(*gin.Engine).Routes() {
		served[ri.Method+" "+ri.Path] = true
	}
	documented := map[string]bool{}
	for _, rd := range routeDocs {
		key := rd.Method + " " + rd.Path
		if documented[key] {
			t.Errorf("%s is documented twice", key)
		}
		documented[key] = true
		if !served[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
	for key := range served {
		if !documented[key] {
			t.Errorf("%s is served but missing from routeDocs (openapi_routes.go)", key)
		}
	}

	body := e.do("GET", "/openapi.json", "", "").want(http.StatusOK).body
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			n++
			if !documented[strings.ToUpper(method)+" "+ginParam.ReplaceAllString(strings.NewReplacer("{", ":", "}", "").Replace(path), ":$1")] {
				t.Errorf("document has %s %s, which routeDocs lacks", method, path)
			}
			if op["x-tributary-access"] == "" || op["summary"] == "" {
				t.Errorf("%s %s lacks access or summary", method, path)
			}
		}
	}
	if n != len(routeDocs) {
		t.Errorf("document has %d operations, routeDocs %d", n, len(routeDocs))
	}
	for _, ref := range regexp.MustCompile(`"\$ref":"#/components/schemas/([^"]+)"`).FindAllSubmatch(body, -1) {
		if _, ok := doc.Components.Schemas[string(ref[1])]; !ok {
			t.Errorf("$ref to missing schema %s", ref[1])
		}
	}
}

// samplePath fills a route's parameters with values that name nothing.
func samplePath(p string) string {
	return strings.NewReplacer(":id", "999999", ":name", "no-such-function", ":version", "9.9.9",
		":trace_id", "0123456789abcdef0123456789abcdef").Replace(p)
}

// TestAuthorizationMatrix sends every documented route with no token, bad
// tokens and each role's token, and checks 401 / 403 / allowed.
func TestAuthorizationMatrix(t *testing.T) {
	rdb, _ := stacktest.Redis(t)
	nc, err := nomad.NewClient(&nomad.Config{Address: stacktest.Nomad(t)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(nc, "../../jobs/worker.nomad.hcl")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOpts(t, []Option{WithRedis(rdb), WithScheduler(sched)}).withUsers()
	bad := e.badTokens()
	roles := []apiserver.Role{apiserver.RoleViewer, apiserver.RoleEditor, apiserver.RoleAdmin}
	need := map[string]apiserver.Role{accessViewer: apiserver.RoleViewer, accessLegacyR: apiserver.RoleViewer,
		accessEditor: apiserver.RoleEditor, accessLegacyW: apiserver.RoleEditor, accessAdmin: apiserver.RoleAdmin,
		accessRegister: apiserver.RoleAdmin}

	for _, rd := range routeDocs {
		path := samplePath(rd.Path)
		body := ""
		if rd.Method == "POST" || rd.Method == "PUT" {
			body = "{}"
		}
		name := rd.Method + " " + rd.Path
		allowed := func(who string, r resp) {
			t.Helper()
			if r.code == http.StatusUnauthorized || r.code == http.StatusForbidden || r.code >= 500 {
				t.Errorf("%s as %s: %d %s, want it allowed", name, who, r.code, r.body)
			}
			if rd.Method == "GET" && !strings.Contains(rd.Path, ":") && r.code != http.StatusOK {
				t.Errorf("%s as %s: %d, want 200", name, who, r.code)
			}
		}
		if rd.Access == accessAlertmanager {
			continue // not a user's token: TestAlertWebhookAuth
		}
		if rd.Access == accessPublic {
			for who, tok := range bad {
				allowed(who, e.do(rd.Method, path, tok, body))
			}
			for _, role := range roles {
				allowed(string(role), e.do(rd.Method, path, e.tokens[role], body))
			}
			allowed("anonymous", e.do(rd.Method, path, "", body))
			continue
		}
		if r := e.do(rd.Method, path, "", body); r.code != http.StatusUnauthorized || r.errorOf().Code != apiserver.CodeUnauthenticated {
			t.Errorf("%s without a token: %d %s, want 401", name, r.code, r.body)
		}
		for who, tok := range bad {
			if r := e.do(rd.Method, path, tok, body); r.code != http.StatusUnauthorized {
				t.Errorf("%s with %s token: %d %s, want 401", name, who, r.code, r.body)
			}
		}
		for _, role := range roles {
			r := e.do(rd.Method, path, e.tokens[role], body)
			if role.Allows(need[rd.Access]) {
				allowed(string(role), r)
			} else if r.code != http.StatusForbidden || !strings.Contains(r.errorOf().Message, string(need[rd.Access])) {
				t.Errorf("%s as %s: %d %s, want 403 naming the role needed", name, role, r.code, r.body)
			}
		}
	}
	if !slices.ContainsFunc(routeDocs, func(rd routeDoc) bool { return rd.Access == accessAdmin || rd.Access == accessRegister }) {
		t.Error("no admin route was checked")
	}
}

// TestOpenAPISchemaNames: every schema name is a TypeScript identifier
// (the UI's types are generated from them) and says what it is.
func TestOpenAPISchemaNames(t *testing.T) {
	schemas := openAPI(routeDocs)["components"].(map[string]any)["schemas"].(map[string]any)
	ident := regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	for name := range schemas {
		if !ident.MatchString(name) {
			t.Errorf("schema %q is not an identifier", name)
		}
	}
	for _, want := range []string{"Error", "User", "Worker", "WorkerStatus", "WorkerMetrics", "Graph", "GraphWorker",
		"KafkaTopic", "KafkaGroup", "SeriesResult", "DeadLetterPage", "DeadLetter", "ReplayResetResult", "Event", "Alert", "TraceSpan"} {
		if _, ok := schemas[want]; !ok {
			t.Errorf("no schema %s", want)
		}
	}
	for _, vague := range []string{"Result", "Page", "Status", "Metrics", "Check", "Group", "ErrorBody"} {
		if _, ok := schemas[vague]; ok {
			t.Errorf("schema %s: name it after what it is (schemaNames, packagePrefix)", vague)
		}
	}
	if role := schemas["User"].(map[string]any)["properties"].(map[string]any)["role"].(map[string]any); len(role["enum"].([]string)) != 3 {
		t.Errorf("User.role: %v, want an enum of the three roles", role)
	}
}

// TestDocsServesSwaggerUI: /docs is the UI build's docs.html, and says
// where the document is when the server has no UI.
func TestDocsServesSwaggerUI(t *testing.T) {
	if r := newEnv(t).do("GET", "/docs", "", "").want(http.StatusOK); !strings.Contains(string(r.body), `href="/openapi.json"`) {
		t.Errorf("without a UI: %s", r.body)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"index.html": "<title>UI</title>", "docs.html": `<div id="swagger-ui"></div>`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, func(c *config.Config) { c.UIDir = dir })
	r := e.do("GET", "/docs", "", "").want(http.StatusOK)
	if !strings.Contains(string(r.body), "swagger-ui") || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/html") {
		t.Errorf("with a UI: %s %s", r.hdr.Get("Content-Type"), r.body)
	}
}
