package httpapi

import "github.com/gin-gonic/gin"

// mountWorkers registers the workers routes. (Placeholder: no routes yet.)
func (s *Server) mountWorkers(v1 *gin.RouterGroup) {}
