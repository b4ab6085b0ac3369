package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/scheduler"
)

// Bounds of a log tail.
const (
	DefaultLogTailBytes = 16 << 10
	MaxLogTailBytes     = 1 << 20
	// logsTimeout bounds reading a tail from the Nomad client that runs
	// the allocation.
	logsTimeout = 10 * time.Second
)

func (s *Server) mountLogs(v1 *gin.RouterGroup) {
	v1.GET("/workers/:id/allocations/:alloc/logs", s.require(apiserver.RoleViewer), s.allocationLogs)
}

// The two log streams of a task.
const (
	streamStdout = "stdout"
	streamStderr = "stderr"
)

type logsJSON struct {
	Worker     string `json:"worker"`
	Allocation string `json:"allocation"`
	Stream     string `json:"stream"` // stdout or stderr
	TailBytes  int64  `json:"tail_bytes"`
	Text       string `json:"text"`
}

// allocationLogs answers the end of one allocation's stdout or stderr as
// its Nomad client has it now (it does not follow). An allocation that is
// not the worker's is a 404 like a missing one.
func (s *Server) allocationLogs(c *gin.Context) {
	if !s.need(c, s.sched != nil, "Nomad") {
		return
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	stream := c.DefaultQuery("stream", streamStderr)
	if stream != streamStderr && stream != streamStdout {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "stream", `must be "stdout" or "stderr"`))
		return
	}
	tail, err := queryInt(c, "tail", DefaultLogTailBytes, 1, MaxLogTailBytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), logsTimeout)
	defer cancel()
	text, err := s.sched.Logs(ctx, w.ConsumerName, c.Param("alloc"), c.Query("task"), stream == streamStderr, tail)
	if errors.Is(err, scheduler.ErrNotFound) {
		err = apiserver.Errorf(apiserver.CodeNotFound, "worker %s has no allocation %q", w.ConsumerName, c.Param("alloc"))
	}
	if err != nil {
		s.fail(c, nomadError(err))
		return
	}
	c.JSON(http.StatusOK, logsJSON{w.ConsumerName, c.Param("alloc"), stream, tail, text})
}
