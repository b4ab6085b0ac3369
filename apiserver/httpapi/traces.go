package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/jaeger"
)

var traceID = regexp.MustCompile(`^([0-9a-f]{16}|[0-9a-f]{32})$`)

func (s *Server) mountTraces(v1 *gin.RouterGroup) {
	viewer := s.require(apiserver.RoleViewer)
	v1.GET("/workers/:id/traces", viewer, s.workerTraces)
	v1.GET("/traces/:trace_id", viewer, s.getTrace)
}

func (s *Server) jaeger() jaeger.Client { return jaeger.Client{Base: s.cfg.JaegerQueryURL, HTTP: s.client} }

// traceSummaryJSON is one trace in a worker's list.
type traceSummaryJSON struct {
	TraceID       string    `json:"trace_id"`
	Start         time.Time `json:"start"`
	DurationUS    int64     `json:"duration_us"`
	SpanCount     int       `json:"span_count"`
	Services      []string  `json:"services"`
	RootOperation string    `json:"root_operation"`
	Errors        int       `json:"errors"`
	JaegerURL     string    `json:"jaeger_url"`
}

type traceJSON struct {
	TraceID   string        `json:"trace_id"`
	JaegerURL string        `json:"jaeger_url"`
	Spans     []jaeger.Span `json:"spans"`
}

func (s *Server) traceURL(id string) string { return s.cfg.JaegerUIURL + "/trace/" + id }

func summarize(t jaeger.Trace, url string) traceSummaryJSON {
	out := traceSummaryJSON{TraceID: t.TraceID, SpanCount: len(t.Spans), Services: []string{}, JaegerURL: url}
	seen := map[string]bool{}
	var end time.Time
	for i, sp := range t.Spans {
		if i == 0 || sp.Start.Before(out.Start) {
			out.Start = sp.Start
		}
		if e := sp.Start.Add(time.Duration(sp.DurationUS) * time.Microsecond); e.After(end) {
			end = e
		}
		if sp.ParentSpanID == "" && out.RootOperation == "" {
			out.RootOperation = sp.Service + ": " + sp.Operation
		}
		if !seen[sp.Service] {
			seen[sp.Service] = true
			out.Services = append(out.Services, sp.Service)
		}
		if sp.Status == "error" {
			out.Errors++
		}
	}
	out.DurationUS = end.Sub(out.Start).Microseconds()
	return out
}

// workerTraces lists recent traces with spans of the worker (its service
// name in Jaeger is its consumer_name).
func (s *Server) workerTraces(c *gin.Context) {
	limit, lookback := 20, time.Hour
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "limit", "must be an integer from 1 to 100"))
			return
		}
		limit = n
	}
	if v := c.Query("lookback"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "lookback", "must be a duration from 1m to 168h, such as 15m or 2h"))
			return
		}
		lookback = d
	}
	w, ok := s.worker(c)
	if !ok {
		return
	}
	ts, err := s.jaeger().Traces(c.Request.Context(), w.ConsumerName, limit, lookback)
	if err != nil {
		s.fail(c, jaegerError(err))
		return
	}
	out := make([]traceSummaryJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, summarize(t, s.traceURL(t.TraceID)))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getTrace(c *gin.Context) {
	id := c.Param("trace_id")
	if !traceID.MatchString(id) {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "trace_id", "must be 16 or 32 lower-case hex digits"))
		return
	}
	t, err := s.jaeger().Trace(c.Request.Context(), id)
	if err != nil {
		s.fail(c, jaegerError(err))
		return
	}
	c.JSON(http.StatusOK, traceJSON{t.TraceID, s.traceURL(t.TraceID), t.Spans})
}

func jaegerError(err error) error {
	if errors.Is(err, jaeger.ErrNotFound) {
		return apiserver.Errorf(apiserver.CodeNotFound, "Jaeger has no trace with that id (traces are kept in memory for a limited time)")
	}
	return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "Jaeger's query API did not answer: " + err.Error(), Err: err}
}
