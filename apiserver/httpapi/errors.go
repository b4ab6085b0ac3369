package httpapi

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"

	"github.com/tributary-etl/tributary/apiserver"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[apiserver.Code]int{
	apiserver.CodeBadRequest:      http.StatusBadRequest,
	apiserver.CodeInvalid:         http.StatusUnprocessableEntity,
	apiserver.CodeUnauthenticated: http.StatusUnauthorized,
	apiserver.CodeForbidden:       http.StatusForbidden,
	apiserver.CodeNotFound:        http.StatusNotFound,
	apiserver.CodeMethod:          http.StatusMethodNotAllowed,
	apiserver.CodeConflict:        http.StatusConflict,
	apiserver.CodeTooLarge:        http.StatusRequestEntityTooLarge,
	apiserver.CodeMediaType:       http.StatusUnsupportedMediaType,
	apiserver.CodeTooMany:         http.StatusTooManyRequests,
	apiserver.CodeUnavailable:     http.StatusServiceUnavailable,
	apiserver.CodeInternal:        http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    apiserver.Code `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
}

// fail writes err as {"error":{code,message,field}} with the status of its
// code and aborts the chain. Internal errors are logged and shown only as
// "internal error".
func (s *Server) fail(c *gin.Context, err error) {
	e, ok := errors.AsType[*apiserver.Error](err)
	switch {
	case ok:
	case databaseDown(err):
		e = &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "the database is unavailable; try again shortly", Err: err}
	default:
		e = &apiserver.Error{Code: apiserver.CodeInternal, Message: "internal error", Err: err}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	}
	if e.Code == apiserver.CodeUnauthenticated {
		c.Header("WWW-Authenticate", `Bearer realm="tributary"`)
	}
	c.AbortWithStatusJSON(status, errorBody{errorDetail{e.Code, e.Message, e.Field}})
}

// databaseDown reports whether err says MySQL could not be reached (as
// opposed to a query it refused): the client gets 503, not 500, and may
// retry. Workers keep running on the configuration they loaded.
func databaseDown(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "sql: database is closed")
}
