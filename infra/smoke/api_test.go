package smoke

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// TestAPIServer checks the API server `make up` started: ready with all of
// its dependencies, and the first admin it created can log in.
func TestAPIServer(t *testing.T) {
	base, pwFile := os.Getenv("TRIBUTARY_API_URL"), os.Getenv("TRIBUTARY_ADMIN_PASSWORD_FILE")
	if base == "" || pwFile == "" {
		stacktest.Unavailable(t, "API server", errNotConfigured("TRIBUTARY_API_URL and TRIBUTARY_ADMIN_PASSWORD_FILE (see infra/stack.sh env)"))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		stacktest.Unavailable(t, "API server", err)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 200 || ready.Checks["mysql"] != "ok" || ready.Checks["redis"] != "ok" || ready.Checks["nomad"] != "ok" {
		t.Fatalf("/readyz = %d %+v", resp.StatusCode, ready)
	}

	pw, err := os.ReadFile(pwFile)
	if os.IsNotExist(err) {
		// The server answering on the port was started by someone else
		// (stack.sh uses it as it is), so this stack made no admin.
		t.Skipf("no %s: the API server on %s was not started by this stack; its readiness was checked", pwFile, base)
	}
	if err != nil {
		t.Fatalf("the admin password make up wrote: %v", err)
	}
	body, _ := json.Marshal(map[string]string{"email": os.Getenv("TRIBUTARY_ADMIN_EMAIL"), "password": strings.TrimSpace(string(pw))})
	resp, err = client.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.AccessToken == "" {
		t.Fatalf("admin login answered %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+login.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Role string `json:"role"`
	}
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.Role != "admin" {
		t.Fatalf("/auth/me role = %q, want admin", me.Role)
	}
}

type errNotConfigured string

func (e errNotConfigured) Error() string { return "not configured: " + string(e) }
