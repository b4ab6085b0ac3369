package httpapi

import "github.com/gin-gonic/gin"

// mountPipelines registers the pipelines routes. (Placeholder: no routes yet.)
func (s *Server) mountPipelines(v1 *gin.RouterGroup) {}
