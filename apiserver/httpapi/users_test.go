package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// userID finds a user's id in GET /users.
func (e *env) userID(email string) int64 {
	e.t.Helper()
	var users []userJSON
	e.do("GET", "/api/v1/users", e.tokens[apiserver.RoleAdmin], "").want(http.StatusOK).decode(&users)
	for _, u := range users {
		if u.Email == email {
			return u.ID
		}
	}
	e.t.Fatalf("%s not in %+v", email, users)
	return 0
}

func TestUsersAdminOnly(t *testing.T) {
	e := newEnv(t).withUsers()
	id := itoa(e.userID("viewer@example.com"))
	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/users", ""},
		{"PATCH", "/api/v1/users/" + id, `{"role":"admin"}`},
		{"PUT", "/api/v1/users/" + id + "/password", `{"password":"taken-over!"}`},
		{"DELETE", "/api/v1/users/" + id, ""},
	}
	for _, rt := range routes {
		for _, role := range []apiserver.Role{apiserver.RoleViewer, apiserver.RoleEditor} {
			t.Run(rt.method+" "+rt.path+" as "+string(role), func(t *testing.T) {
				r := e.do(rt.method, rt.path, e.tokens[role], rt.body).want(http.StatusForbidden)
				if msg := r.errorOf().Message; !strings.Contains(msg, "admin") {
					t.Errorf("message %q does not name the role needed", msg)
				}
			})
		}
		t.Run(rt.method+" "+rt.path+" anonymous", func(t *testing.T) {
			e.do(rt.method, rt.path, "", rt.body).want(http.StatusUnauthorized)
		})
	}
	// Nothing changed: the viewer is still a viewer with its password.
	e.login("viewer@example.com", "viewer-password")
}

func TestUsersListAndChangeRole(t *testing.T) {
	e := newEnv(t).withUsers()
	admin := e.tokens[apiserver.RoleAdmin]
	var users []userJSON
	e.do("GET", "/api/v1/users", admin, "").want(http.StatusOK).decode(&users)
	if len(users) != 3 || users[0].Email != "admin@example.com" || users[0].Role != apiserver.RoleAdmin ||
		users[2].Email != "viewer@example.com" || users[2].DisabledAt != nil {
		t.Fatalf("users %+v", users)
	}
	if strings.Contains(string(e.do("GET", "/api/v1/users", admin, "").body), "password") {
		t.Fatal("the list shows password hashes")
	}
	viewer := e.userID("viewer@example.com")
	path := "/api/v1/users/" + itoa(viewer)

	var u userJSON
	e.do("PATCH", path, admin, `{"role":"editor"}`).want(http.StatusOK).decode(&u)
	if u.Role != apiserver.RoleEditor || u.Email != "viewer@example.com" {
		t.Fatalf("after PATCH %+v", u)
	}
	// The role is read on every request: the old token now edits.
	var me userJSON
	e.do("GET", "/api/v1/auth/me", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&me)
	if me.Role != apiserver.RoleEditor {
		t.Fatalf("me %+v", me)
	}

	for _, tc := range []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"bad role", path, `{"role":"root"}`, 422, "role"},
		{"nothing to change", path, `{}`, 422, ""},
		{"unknown field", path, `{"email":"x@example.com"}`, 400, "email"},
		{"wrong type", path, `{"disabled":"yes"}`, 400, "disabled"},
		{"bad id", "/api/v1/users/abc", `{"role":"viewer"}`, 400, "id"},
		{"no such user", "/api/v1/users/999999", `{"role":"viewer"}`, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PATCH", tc.path, admin, tc.body).want(tc.status)
			if f := r.errorOf().Field; f != tc.field {
				t.Errorf("field %q, want %q: %s", f, tc.field, r.body)
			}
		})
	}
}

func TestUsersLastAdmin(t *testing.T) {
	e := newEnv(t).withUsers()
	admin := e.tokens[apiserver.RoleAdmin]
	self := "/api/v1/users/" + itoa(e.userID("admin@example.com"))
	if f := e.do("PATCH", self, admin, `{"disabled":true}`).want(422).errorOf().Field; f != "disabled" {
		t.Errorf("disabling oneself: field %q", f)
	}
	if f := e.do("DELETE", self, admin, "").want(422).errorOf().Field; f != "id" {
		t.Errorf("deleting oneself: field %q", f)
	}
	if f := e.do("PATCH", self, admin, `{"role":"editor"}`).want(409).errorOf().Field; f != "role" {
		t.Errorf("demoting the last admin: field %q", f)
	}
	// With a second admin, the first may step down.
	editor := "/api/v1/users/" + itoa(e.userID("editor@example.com"))
	e.do("PATCH", editor, admin, `{"role":"admin"}`).want(200)
	e.do("PATCH", self, admin, `{"role":"viewer"}`).want(200)
	e.do("GET", "/api/v1/users", admin, "").want(403) // its token now carries a viewer
	// The remaining admin cannot demote itself either.
	e.do("PATCH", editor, e.tokens[apiserver.RoleEditor], `{"role":"viewer"}`).want(409)
}

func TestUsersDisable(t *testing.T) {
	e := newEnv(t).withUsers()
	admin, token := e.tokens[apiserver.RoleAdmin], e.tokens[apiserver.RoleViewer]
	path := "/api/v1/users/" + itoa(e.userID("viewer@example.com"))
	var u userJSON
	e.do("PATCH", path, admin, `{"disabled":true}`).want(http.StatusOK).decode(&u)
	if u.DisabledAt == nil {
		t.Fatalf("disabled user %+v", u)
	}
	// Its existing token stops working on the next request, and it cannot log in.
	if r := e.do("GET", "/api/v1/auth/me", token, "").want(http.StatusUnauthorized); !strings.Contains(r.errorOf().Message, "disabled") {
		t.Errorf("token of a disabled user: %s", r.body)
	}
	e.do("GET", "/api/v1/pipelines", token, "").want(http.StatusUnauthorized)
	if r := e.do("POST", "/api/v1/auth/login", "", `{"email":"viewer@example.com","password":"viewer-password"}`).want(http.StatusForbidden); !strings.Contains(r.errorOf().Message, "disabled") {
		t.Errorf("login of a disabled user: %s", r.body)
	}
	// A wrong password still reads as one, so disabled accounts are not probed.
	e.do("POST", "/api/v1/auth/login", "", `{"email":"viewer@example.com","password":"wrong-password"}`).want(http.StatusUnauthorized)
	// Disabling twice keeps the first time.
	var again userJSON
	e.do("PATCH", path, admin, `{"disabled":true}`).want(http.StatusOK).decode(&again)
	if !again.DisabledAt.Equal(*u.DisabledAt) {
		t.Errorf("disabled_at moved from %v to %v", u.DisabledAt, again.DisabledAt)
	}

	e.do("PATCH", path, admin, `{"disabled":false}`).want(http.StatusOK).decode(&u)
	if u.DisabledAt != nil {
		t.Fatalf("enabled user %+v", u)
	}
	e.do("GET", "/api/v1/auth/me", token, "").want(http.StatusOK)
	e.login("viewer@example.com", "viewer-password")
}

func TestUsersResetPasswordAndDelete(t *testing.T) {
	e := newEnv(t).withUsers()
	admin := e.tokens[apiserver.RoleAdmin]
	id := itoa(e.userID("viewer@example.com"))
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"password":"short"}`, 422, "password"},
		{`{"password":"` + strings.Repeat("x", 73) + `"}`, 422, "password"},
		{`{}`, 422, "password"},
		{`{"password":1}`, 400, "password"},
	} {
		if f := e.do("PUT", "/api/v1/users/"+id+"/password", admin, tc.body).want(tc.status).errorOf().Field; f != tc.field {
			t.Errorf("%s: field %q, want %q", tc.body, f, tc.field)
		}
	}
	e.do("PUT", "/api/v1/users/999999/password", admin, `{"password":"new-password"}`).want(404)
	e.do("PUT", "/api/v1/users/"+id+"/password", admin, `{"password":"new-viewer-password"}`).want(http.StatusNoContent)
	e.do("POST", "/api/v1/auth/login", "", `{"email":"viewer@example.com","password":"viewer-password"}`).want(http.StatusUnauthorized)
	fresh := e.login("viewer@example.com", "new-viewer-password")
	// The reset revokes the tokens issued before it, and only those.
	if r := e.do("GET", "/api/v1/auth/me", e.tokens[apiserver.RoleViewer], "").want(http.StatusUnauthorized); !strings.Contains(r.errorOf().Message, "password changed") {
		t.Errorf("a token issued before the reset: %s", r.body)
	}
	e.do("GET", "/api/v1/auth/me", fresh, "").want(http.StatusOK)
	e.do("GET", "/api/v1/auth/me", admin, "").want(http.StatusOK)

	e.do("DELETE", "/api/v1/users/"+id, admin, "").want(http.StatusNoContent)
	e.do("DELETE", "/api/v1/users/"+id, admin, "").want(http.StatusNotFound)
	if r := e.do("GET", "/api/v1/auth/me", e.tokens[apiserver.RoleViewer], "").want(http.StatusUnauthorized); !strings.Contains(r.errorOf().Message, "no longer exists") {
		t.Errorf("token of a deleted user: %s", r.body)
	}
	// The email is free again.
	e.do("POST", "/api/v1/auth/register", admin, `{"email":"viewer@example.com","password":"viewer-password"}`).want(http.StatusCreated)
}
