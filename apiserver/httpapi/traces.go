package httpapi

import "github.com/gin-gonic/gin"

// mountTraces registers the traces routes. (Placeholder: no routes yet.)
func (s *Server) mountTraces(v1 *gin.RouterGroup) {}
