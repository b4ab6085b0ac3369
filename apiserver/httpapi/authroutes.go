package httpapi

import (
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
)

// Password bounds: bcrypt ignores bytes after the 72nd, so longer ones are
// refused rather than silently truncated.
const (
	MinPasswordBytes = 8
	MaxPasswordBytes = 72
)

type userJSON struct {
	ID        int64          `json:"id"`
	Email     string         `json:"email"`
	Role      apiserver.Role `json:"role"`
	CreatedAt time.Time      `json:"created_at"`
	// DisabledAt is null while the user may log in.
	DisabledAt *time.Time `json:"disabled_at"`
}

func toUserJSON(u apiserver.User) userJSON {
	j := userJSON{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt.UTC()}
	if u.DisabledAt != nil {
		t := u.DisabledAt.UTC()
		j.DisabledAt = &t
	}
	return j
}

type credentials struct {
	Email    string          `json:"email"`
	Password string          `json:"password"`
	Role     *apiserver.Role `json:"role,omitempty"`
}

func (cr *credentials) validate() error {
	cr.Email = strings.TrimSpace(cr.Email)
	if cr.Email == "" {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "email", "is required")
	}
	if a, err := mail.ParseAddress(cr.Email); err != nil || a.Address != cr.Email || len(cr.Email) > 254 {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "email", "is not a valid address")
	}
	if err := validPassword(cr.Password); err != nil {
		return err
	}
	if cr.Role != nil && !cr.Role.Valid() {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "role", "must be viewer, editor or admin")
	}
	return nil
}

func validPassword(p string) error {
	if len(p) < MinPasswordBytes || len(p) > MaxPasswordBytes {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "password", "must be %d to %d bytes long", MinPasswordBytes, MaxPasswordBytes)
	}
	return nil
}

// register creates a user. On an empty installation anyone may register and
// becomes admin; afterwards only an admin may, choosing the role (default
// viewer).
func (s *Server) register(c *gin.Context) {
	ctx := c.Request.Context()
	has, err := s.db.HasUsers(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	role := apiserver.RoleAdmin
	if has {
		u, err := s.authenticate(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !u.Role.Allows(apiserver.RoleAdmin) {
			s.fail(c, apiserver.Errorf(apiserver.CodeForbidden, "only an admin may register users"))
			return
		}
		c.Set(ctxUser, u)
	}
	// The caller's right to register is settled before the body is read:
	// a refused request learns why, not what its body lacks.
	var cr credentials
	if err := s.decode(c, &cr); err != nil {
		s.fail(c, err)
		return
	}
	if err := cr.validate(); err != nil {
		s.fail(c, err)
		return
	}
	if has {
		role = apiserver.RoleViewer
		if cr.Role != nil {
			role = *cr.Role
		}
	}
	hash, err := auth.HashPassword(cr.Password, s.bcryptCost)
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.db.CreateUser(ctx, apiserver.User{Email: cr.Email, PasswordHash: hash, Role: role}, !has)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toUserJSON(u))
}

type loginResponse struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int64     `json:"expires_in"`
	ExpiresAt   time.Time `json:"expires_at"`
	User        userJSON  `json:"user"`
}

func (s *Server) login(c *gin.Context) {
	var cr struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := s.decode(c, &cr); err != nil {
		s.fail(c, err)
		return
	}
	if cr.Email == "" {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "email", "is required"))
		return
	}
	if cr.Password == "" {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "password", "is required"))
		return
	}
	email := strings.ToLower(strings.TrimSpace(cr.Email))
	keys := []string{"ip:" + c.ClientIP(), "email:" + email}
	if blocked, wait := s.logins.blocked(keys...); blocked {
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		s.fail(c, apiserver.Errorf(apiserver.CodeTooMany, "too many failed logins; try again in %d seconds", secs))
		return
	}
	u, err := s.db.UserByEmail(c.Request.Context(), strings.TrimSpace(cr.Email))
	if err != nil && apiserver.ErrorCode(err) != apiserver.CodeNotFound {
		s.fail(c, err)
		return
	}
	if !auth.CheckPassword(u.PasswordHash, cr.Password) {
		s.logins.fail(keys...)
		s.fail(c, apiserver.Errorf(apiserver.CodeUnauthenticated, "wrong email or password"))
		return
	}
	s.logins.clear("email:" + email)
	if u.DisabledAt != nil {
		s.fail(c, apiserver.Errorf(apiserver.CodeForbidden, "this user is disabled; an admin can enable it"))
		return
	}
	tok, exp, err := s.tokens.Issue(u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxUser, u)
	c.JSON(http.StatusOK, loginResponse{tok, "Bearer", int64(s.cfg.JWTTTL / time.Second), exp.UTC(), toUserJSON(u)})
}

func (s *Server) me(c *gin.Context) {
	u, _ := c.Get(ctxUser)
	c.JSON(http.StatusOK, toUserJSON(u.(apiserver.User)))
}
