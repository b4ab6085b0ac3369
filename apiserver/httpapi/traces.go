package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/jaeger"
)

// traceID is a trace id as Jaeger takes it: 64 or 128 bits in hex.
var traceID = regexp.MustCompile(`^([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$`)

// Bounds of GET /workers/:id/traces.
const (
	defaultTraceLimit    = 20
	maxTraceLimit        = 100
	defaultTraceLookback = time.Hour
	minTraceLookback     = time.Minute
	maxTraceLookback     = 7 * 24 * time.Hour
)

func (s *Server) mountTraces(v1 *gin.RouterGroup) {
	viewer := s.require(apiserver.RoleViewer)
	v1.GET("/workers/:id/traces", viewer, s.workerTraces)
	v1.GET("/traces/:trace_id", viewer, s.getTrace)
}

func (s *Server) jaeger() jaeger.Client {
	return jaeger.Client{Base: s.cfg.JaegerQueryURL, HTTP: s.client}
}

// traceSummaryJSON is one trace in a worker's list.
type traceSummaryJSON struct {
	TraceID       string    `json:"trace_id"`
	Start         time.Time `json:"start"`
	DurationUS    int64     `json:"duration_us"`
	SpanCount     int       `json:"span_count"`
	Services      []string  `json:"services"`       // in order of first span
	RootOperation string    `json:"root_operation"` // "service: operation" of the span without parent
	Errors        int       `json:"errors"`         // spans with an error status
	JaegerURL     string    `json:"jaeger_url"`     // "" without TRIBUTARY_JAEGER_UI_URL
}

// traceJSON is one trace with its spans, by start time.
type traceJSON struct {
	TraceID   string        `json:"trace_id"`
	JaegerURL string        `json:"jaeger_url"` // "" without TRIBUTARY_JAEGER_UI_URL
	Spans     []jaeger.Span `json:"spans"`
}

// traceURL is the trace's page in the external Jaeger UI (Jaeger v2's
// route /trace/<id>), or "" when TRIBUTARY_JAEGER_UI_URL names none: the
// query API alone serves no pages, so a link to it would lead nowhere.
func (s *Server) traceURL(id string) string {
	if s.cfg.JaegerUIURL == "" {
		return ""
	}
	return s.cfg.JaegerUIURL + "/trace/" + id
}

// summarize sums up a trace whose spans are ordered by start time. A
// trace whose root span has not arrived (or was dropped) is named after
// its earliest span.
func summarize(t jaeger.Trace, url string) traceSummaryJSON {
	out := traceSummaryJSON{TraceID: t.TraceID, SpanCount: len(t.Spans), Services: []string{}, JaegerURL: url}
	if len(t.Spans) == 0 {
		return out
	}
	out.Start = t.Spans[0].Start
	out.RootOperation = t.Spans[0].Service + ": " + t.Spans[0].Operation
	seen := map[string]bool{}
	rootSeen := false
	end := out.Start
	for _, sp := range t.Spans {
		if e := sp.Start.Add(time.Duration(sp.DurationUS) * time.Microsecond); e.After(end) {
			end = e
		}
		if sp.ParentSpanID == "" && !rootSeen {
			rootSeen, out.RootOperation = true, sp.Service+": "+sp.Operation
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

// traceParams reads limit and lookback, answering 422 naming the field.
func (s *Server) traceParams(c *gin.Context) (limit int, lookback time.Duration, ok bool) {
	limit, lookback = defaultTraceLimit, defaultTraceLookback
	if v, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTraceLimit {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "limit", "must be an integer from 1 to %d", maxTraceLimit))
			return 0, 0, false
		}
		limit = n
	}
	if v, set := c.GetQuery("lookback"); set {
		d, err := parseLookback(v)
		if err != nil || d < minTraceLookback || d > maxTraceLookback {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "lookback", "must be a duration from 1m to 7d, such as 15m, 2h or 3d"))
			return 0, 0, false
		}
		lookback = d
	}
	return limit, lookback, true
}

// parseLookback is time.ParseDuration plus whole days ("3d").
func parseLookback(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, errors.New("bad number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

// workerTraces lists recent traces with spans of the worker, newest first.
// A worker's spans carry its consumer_name as their service name (the
// runtime's telemetry.SetupTracing), which is what Jaeger is searched by.
func (s *Server) workerTraces(c *gin.Context) {
	limit, lookback, ok := s.traceParams(c)
	if !ok {
		return
	}
	w, ok := s.monitoredWorker(c)
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
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "trace_id", "must be 16 or 32 hex digits"))
		return
	}
	t, err := s.jaeger().Trace(c.Request.Context(), strings.ToLower(id))
	if err != nil {
		s.fail(c, jaegerError(err))
		return
	}
	c.JSON(http.StatusOK, traceJSON{t.TraceID, s.traceURL(t.TraceID), t.Spans})
}

func jaegerError(err error) error {
	if errors.Is(err, jaeger.ErrNotFound) {
		return apiserver.Errorf(apiserver.CodeNotFound, "Jaeger has no trace with that id (it keeps traces for a limited time)")
	}
	return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: "Jaeger's query API did not answer: " + err.Error(), Err: err}
}
