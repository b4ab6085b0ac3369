package httpapi

import "github.com/gin-gonic/gin"

// mountMonitoring registers the monitoring routes. (Placeholder: no routes yet.)
func (s *Server) mountMonitoring(v1 *gin.RouterGroup) {}
