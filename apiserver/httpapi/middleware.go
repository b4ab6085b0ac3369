package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/auth"
)

const (
	ctxRequestID = "tributary.request_id"
	ctxUser      = "tributary.user"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes X-Request-Id from the client when it is sane, else
// makes one, and echoes it on the response.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID.MatchString(id) {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// accessLog logs one line per request. It never logs headers or bodies, so
// tokens and passwords stay out of the logs.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []slog.Attr{
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", time.Since(start)),
	}
	if u, ok := c.Get(ctxUser); ok {
		attrs = append(attrs, slog.Int64("user_id", u.(apiserver.User).ID))
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http request", attrs...)
}

func (s *Server) recovered(c *gin.Context, p any) {
	s.log.Error("panic in handler", "request_id", requestID(c), "panic", p)
	s.fail(c, apiserver.Errorf(apiserver.CodeInternal, "internal error"))
}

// authenticate resolves the bearer token to a user, read fresh from the
// database so a deleted, disabled or demoted user loses access at once, and
// a token issued before the user's password last changed is refused.
func (s *Server) authenticate(c *gin.Context) (apiserver.User, error) {
	h := c.GetHeader("Authorization")
	if h == "" {
		return apiserver.User{}, apiserver.Errorf(apiserver.CodeUnauthenticated, "missing bearer token")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return apiserver.User{}, apiserver.Errorf(apiserver.CodeUnauthenticated, "Authorization must be 'Bearer <token>'")
	}
	id, stamp, err := s.tokens.Verify(strings.TrimSpace(token))
	if err != nil {
		return apiserver.User{}, err
	}
	u, err := s.db.UserByID(c.Request.Context(), id)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		return u, apiserver.Errorf(apiserver.CodeUnauthenticated, "the token's user no longer exists")
	}
	if err == nil && u.DisabledAt != nil {
		return apiserver.User{}, apiserver.Errorf(apiserver.CodeUnauthenticated, "the token's user is disabled")
	}
	if err == nil && subtle.ConstantTimeCompare([]byte(stamp), []byte(auth.PasswordStamp(u.PasswordHash))) != 1 {
		return apiserver.User{}, apiserver.Errorf(apiserver.CodeUnauthenticated, "the password changed after this token was issued; log in again")
	}
	return u, err
}

// require lets through requests whose user has at least role need: 401
// without a valid token, 403 with a role too low.
func (s *Server) require(need apiserver.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := s.authenticate(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !u.Role.Allows(need) {
			s.fail(c, apiserver.Errorf(apiserver.CodeForbidden, "role %s may not do this; it needs %s", u.Role, need))
			return
		}
		c.Set(ctxUser, u)
		c.Next()
	}
}

// legacy guards the original consumer_configs API: role need, unless the
// operator opened it to anonymous access.
func (s *Server) legacy(need apiserver.Role) gin.HandlerFunc {
	if s.cfg.LegacyAnonymous {
		return func(c *gin.Context) { c.Next() }
	}
	return s.require(need)
}

// actor is the acting user's id, nil for anonymous legacy requests.
func actor(c *gin.Context) *int64 {
	if u, ok := c.Get(ctxUser); ok {
		id := u.(apiserver.User).ID
		return &id
	}
	return nil
}

// actorName is who the event log names for the request: the user's email.
func actorName(c *gin.Context) string {
	if u, ok := c.Get(ctxUser); ok {
		return u.(apiserver.User).Email
	}
	return "anonymous"
}
