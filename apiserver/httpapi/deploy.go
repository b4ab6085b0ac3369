package httpapi

import "github.com/gin-gonic/gin"

// mountDeploy registers the deploy routes. (Placeholder: no routes yet.)
func (s *Server) mountDeploy(v1 *gin.RouterGroup) {}
