package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// Users, for admins: list, change role, disable and enable, reset the
// password, delete. Creating one is POST /auth/register.

type userPatch struct {
	Role     *apiserver.Role `json:"role,omitempty"`
	Disabled *bool           `json:"disabled,omitempty"`
}

type passwordInput struct {
	Password string `json:"password"`
}

func (s *Server) mountUsers(v1 *gin.RouterGroup) {
	admin := s.require(apiserver.RoleAdmin)
	v1.GET("/users", admin, s.listUsers)
	v1.PATCH("/users/:id", admin, s.patchUser)
	v1.PUT("/users/:id/password", admin, s.setUserPassword)
	v1.DELETE("/users/:id", admin, s.deleteUser)
}

func (s *Server) listUsers(c *gin.Context) {
	users, err := s.db.ListUsers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = toUserJSON(u)
	}
	c.JSON(http.StatusOK, out)
}

// self refuses an admin's request on its own account: disabling or
// deleting oneself would lock the caller out in the middle of a session.
func self(c *gin.Context, id int64, field string) error {
	if u, ok := c.Get(ctxUser); ok && u.(apiserver.User).ID == id {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, field, "you cannot disable or delete yourself; another admin can")
	}
	return nil
}

func (s *Server) patchUser(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var p userPatch
	if err := s.decode(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case p.Role == nil && p.Disabled == nil:
		err = apiserver.Errorf(apiserver.CodeInvalid, "give role or disabled")
	case p.Role != nil && !p.Role.Valid():
		err = apiserver.FieldErrorf(apiserver.CodeInvalid, "role", "must be viewer, editor or admin")
	case p.Disabled != nil && *p.Disabled:
		err = self(c, id, "disabled")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.db.UpdateUser(c.Request.Context(), id, mysql.UserChange{Role: p.Role, Disabled: p.Disabled})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toUserJSON(u))
}

func (s *Server) setUserPassword(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var p passwordInput
	if err := s.decode(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	if err := validPassword(p.Password); err != nil {
		s.fail(c, err)
		return
	}
	hash, err := auth.HashPassword(p.Password, s.bcryptCost)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.db.SetUserPassword(c.Request.Context(), id, hash); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) deleteUser(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := self(c, id, "id"); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.db.DeleteUser(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
