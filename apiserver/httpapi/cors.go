package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
)

// CORS answers for browsers on the allow-list. These are what a preflight
// is told the UI may use.
const (
	corsMethods = "GET, POST, PUT, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, X-Request-Id"
	corsMaxAge  = "600"
)

// cors returns middleware that grants cross-origin access to the listed
// origins only. A listed origin gets Access-Control-Allow-Origin (and a
// preflight 204 with the methods and headers); any other origin gets no
// CORS header, and its preflight is refused with 403. With no origins
// listed the middleware adds nothing, and OPTIONS falls through to routing.
func (s *Server) cors(origins []string) gin.HandlerFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if len(allowed) == 0 || origin == "" {
			c.Next()
			return
		}
		c.Writer.Header().Add("Vary", "Origin")
		preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
		if !allowed[origin] {
			if preflight {
				s.fail(c, apiserver.Errorf(apiserver.CodeForbidden, "origin %q may not make cross-origin requests", origin))
				return
			}
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "X-Request-Id")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
