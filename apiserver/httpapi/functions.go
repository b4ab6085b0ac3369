package httpapi

import "github.com/gin-gonic/gin"

// mountFunctions registers the functions routes. (Placeholder: no routes yet.)
func (s *Server) mountFunctions(r *gin.Engine, v1 *gin.RouterGroup) {}
