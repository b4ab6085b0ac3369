package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
)

// TestAuthMatrix checks every protected route against every kind of caller.
func TestAuthMatrix(t *testing.T) {
	e := newEnv(t).withUsers()
	e.do("POST", "/api/consumer_configs", e.tokens[apiserver.RoleEditor], seedPostBody).want(http.StatusOK)
	bad := e.badTokens()
	put := `{"consumer_name":"worker1","topics_input":"in","topics_output":"out","kafka_bootstrap_server":"k:9092"}`
	routes := []struct {
		method, path, body string
		need               apiserver.Role
		ok                 int
	}{
		{"GET", "/api/consumer_configs", "", apiserver.RoleViewer, 200},
		{"GET", "/api/consumer_configs/1", "", apiserver.RoleViewer, 200},
		{"POST", "/api/consumer_configs", seedPostBody, apiserver.RoleEditor, 200},
		{"PUT", "/api/consumer_configs/1", put, apiserver.RoleEditor, 200},
		{"DELETE", "/api/consumer_configs/2", "", apiserver.RoleEditor, 204},
		{"GET", "/api/v1/auth/me", "", apiserver.RoleViewer, 200},
		{"POST", "/api/v1/auth/register", `{"email":"new@example.com","password":"new-password"}`, apiserver.RoleAdmin, 201},
	}
	for _, rt := range routes {
		for name, tok := range map[string]string{"no token": "", "expired": bad["expired"], "tampered": bad["tampered"],
			"alg none": bad["alg none"], "other key": bad["other key"]} {
			t.Run(rt.method+" "+rt.path+"/"+name, func(t *testing.T) {
				r := e.do(rt.method, rt.path, tok, rt.body).want(http.StatusUnauthorized)
				if r.errorOf().Code != apiserver.CodeUnauthenticated || r.hdr.Get("WWW-Authenticate") == "" {
					t.Errorf("body %s", r.body)
				}
			})
		}
		// Viewer, editor, admin, in that order, so a DELETE that succeeds
		// runs last.
		for _, role := range []apiserver.Role{apiserver.RoleViewer, apiserver.RoleEditor, apiserver.RoleAdmin} {
			t.Run(rt.method+" "+rt.path+"/"+string(role), func(t *testing.T) {
				r := e.do(rt.method, rt.path, e.tokens[role], rt.body)
				switch {
				case role.Allows(rt.need):
					if r.code != rt.ok && !(rt.method == "DELETE" && r.code == 404) && !(rt.ok == 201 && r.code == 409) {
						t.Fatalf("status %d, want %d: %s", r.code, rt.ok, r.body)
					}
				default:
					r.want(http.StatusForbidden)
					if r.errorOf().Code != apiserver.CodeForbidden {
						t.Errorf("body %s", r.body)
					}
				}
			})
		}
	}
}

func TestRegisterAndLogin(t *testing.T) {
	e := newEnv(t)
	// The first user of an empty installation becomes admin, whatever it asks.
	var u userJSON
	e.do("POST", "/api/v1/auth/register", "", `{"email":"first@example.com","password":"first-password","role":"viewer"}`).want(201).decode(&u)
	if u.Role != apiserver.RoleAdmin || u.ID == 0 {
		t.Fatalf("first user %+v", u)
	}
	// Later registrations need an admin.
	e.do("POST", "/api/v1/auth/register", "", `{"email":"second@example.com","password":"second-password"}`).want(401)
	tok := e.login("first@example.com", "first-password")
	e.do("POST", "/api/v1/auth/register", tok, `{"email":"second@example.com","password":"second-password"}`).want(201).decode(&u)
	if u.Role != apiserver.RoleViewer {
		t.Fatalf("default role %q", u.Role)
	}
	var me userJSON
	second := e.login("second@example.com", "second-password")
	e.do("GET", "/api/v1/auth/me", second, "").want(200).decode(&me)
	if me.Email != "second@example.com" || me.Role != apiserver.RoleViewer {
		t.Fatalf("me %+v", me)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", `{"email":"second@example.com","password":"wrong-password"}`).want(401); r.errorOf().Code != apiserver.CodeUnauthenticated {
		t.Fatal(string(r.body))
	}
	e.do("POST", "/api/v1/auth/login", "", `{"email":"nobody@example.com","password":"whatever-pass"}`).want(401)
	// A deleted user's token stops working.
	e.sql.Exec("DELETE FROM users WHERE email = 'second@example.com'")
	e.do("GET", "/api/v1/auth/me", second, "").want(401)
}

func TestAuthBadInput(t *testing.T) {
	e := newEnv(t).withUsers()
	admin := e.tokens[apiserver.RoleAdmin]
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"register not json", "/api/v1/auth/register", `{`, 400, ""},
		{"register unknown field", "/api/v1/auth/register", `{"email":"a@example.com","password":"password1","admin":true}`, 400, "admin"},
		{"register missing email", "/api/v1/auth/register", `{"password":"password1"}`, 422, "email"},
		{"register bad email", "/api/v1/auth/register", `{"email":"not an email","password":"password1"}`, 422, "email"},
		{"register short password", "/api/v1/auth/register", `{"email":"a@example.com","password":"short"}`, 422, "password"},
		{"register long password", "/api/v1/auth/register", `{"email":"a@example.com","password":"` + strings.Repeat("p", 73) + `"}`, 422, "password"},
		{"register bad role", "/api/v1/auth/register", `{"email":"a@example.com","password":"password1","role":"root"}`, 422, "role"},
		{"register taken email", "/api/v1/auth/register", `{"email":"viewer@example.com","password":"password1"}`, 409, "email"},
		{"register password wrong type", "/api/v1/auth/register", `{"email":"a@example.com","password":12345678}`, 400, "password"},
		{"login unknown field", "/api/v1/auth/login", `{"email":"a@example.com","password":"password1","otp":1}`, 400, "otp"},
		{"login missing password", "/api/v1/auth/login", `{"email":"a@example.com"}`, 422, "password"},
		{"login missing email", "/api/v1/auth/login", `{"password":"password1"}`, 422, "email"},
	}
	before := e.count("users")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", tt.path, admin, tt.body)
			if r.code != tt.status {
				t.Fatalf("status %d, want %d: %s", r.code, tt.status, r.body)
			}
			if got := r.errorOf().Field; got != tt.field {
				t.Errorf("field %q, want %q", got, tt.field)
			}
			if e.count("users") != before {
				t.Error("a user was written")
			}
		})
	}
}

func TestHealthAndErrors(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/healthz", "", "").want(200)
	e.do("GET", "/readyz", "", "").want(200)
	if r := e.do("GET", "/nope", "", "").want(404); r.errorOf().Code != apiserver.CodeNotFound {
		t.Error(string(r.body))
	}
	e.do("PATCH", "/api/consumer_configs", "", "").want(405).errorOf()
	if r := e.do("GET", "/healthz", "", ""); r.hdr.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	e.sql.Close()
	var ready struct {
		Checks map[string]string `json:"checks"`
		Error  errorDetail       `json:"error"`
	}
	e.do("GET", "/readyz", "", "").want(503).decode(&ready)
	if ready.Error.Code != apiserver.CodeUnavailable || ready.Checks["mysql"] == "ok" {
		t.Errorf("readyz with the database closed: %+v", ready)
	}
}
