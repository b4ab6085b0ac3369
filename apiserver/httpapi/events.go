package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/events"
)

func (s *Server) mountEvents(v1 *gin.RouterGroup) {
	v1.GET("/events", s.require(apiserver.RoleViewer), s.listEvents)
}

// positiveQuery parses the query parameter name as a positive integer; 0
// when absent.
func positiveQuery(c *gin.Context, name string, max int64) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > max {
		return 0, apiserver.FieldErrorf(apiserver.CodeInvalid, name, "must be an integer from 1 to %d", max)
	}
	return n, nil
}

func (s *Server) listEvents(c *gin.Context) {
	var f events.Filter
	var limit int64
	for _, p := range []struct {
		name string
		dst  *int64
		max  int64
	}{{"worker_id", &f.WorkerID, 1<<63 - 1}, {"pipeline_id", &f.PipelineID, 1<<63 - 1},
		{"before", &f.Before, 1<<63 - 1}, {"limit", &limit, events.MaxLimit}} {
		n, err := positiveQuery(c, p.name, p.max)
		if err != nil {
			s.fail(c, err)
			return
		}
		*p.dst = n
	}
	f.Limit = int(limit)
	es, err := s.events.List(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, es)
}

// record records an operational action of the request's user (redrives,
// offset resets); a failure to record it is logged and never undoes it.
func (s *Server) record(c *gin.Context, action string, workerID int64, from, to any, reason string) {
	e := events.Event{Actor: actorName(c), Action: action, WorkerID: workerID, Reason: reason}
	var err error
	if e.From, err = json.Marshal(from); err == nil {
		e.To, err = json.Marshal(to)
	}
	if err == nil && s.events != nil {
		err = s.events.Record(c.Request.Context(), e)
	}
	if err != nil {
		s.log.Error("record event", "action", action, "worker_id", workerID, "error", err)
	}
}
