// Package jaeger reads traces from Jaeger's HTTP query API (the JSON API
// Jaeger's own UI uses, served by Jaeger v2 at /api/traces) and turns them
// into plain spans: service, operation, parent, links, start, duration and
// attributes.
package jaeger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// ErrNotFound is a trace id Jaeger does not know.
var ErrNotFound = errors.New("trace not found")

// ErrUnavailable wraps every failure to get an answer from Jaeger.
var ErrUnavailable = errors.New("jaeger query API unavailable")

// Client queries one Jaeger. It holds no state: a value is safe for
// concurrent use.
type Client struct {
	Base string       // e.g. http://127.0.0.1:16686
	HTTP *http.Client // nil: http.DefaultClient
}

// Span is one span of a trace.
type Span struct {
	TraceID      string         `json:"trace_id"`
	SpanID       string         `json:"span_id"`
	ParentSpanID string         `json:"parent_span_id,omitempty"`
	Links        []Link         `json:"links"`
	Service      string         `json:"service"`
	Operation    string         `json:"operation"`
	Start        time.Time      `json:"start"`
	DurationUS   int64          `json:"duration_us"`
	Attributes   map[string]any `json:"attributes"`
	Status       string         `json:"status"` // ok or error
}

// Link is a span another span links to (OpenTelemetry span links, Jaeger's
// FOLLOWS_FROM references and CHILD_OF references beyond the first).
type Link struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// Trace is a trace's spans, by start time.
type Trace struct {
	TraceID string `json:"trace_id"`
	Spans   []Span `json:"spans"`
}

// wire types of Jaeger's JSON API.
type (
	response struct {
		Data   []wireTrace `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	wireTrace struct {
		TraceID   string                 `json:"traceID"`
		Spans     []wireSpan             `json:"spans"`
		Processes map[string]wireProcess `json:"processes"`
	}
	wireSpan struct {
		TraceID       string    `json:"traceID"`
		SpanID        string    `json:"spanID"`
		OperationName string    `json:"operationName"`
		References    []wireRef `json:"references"`
		StartTime     int64     `json:"startTime"` // µs since the epoch
		Duration      int64     `json:"duration"`  // µs
		Tags          []wireTag `json:"tags"`
		ProcessID     string    `json:"processID"`
	}
	wireRef struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	}
	wireTag struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	wireProcess struct {
		ServiceName string `json:"serviceName"`
	}
)

// Traces returns up to limit recent traces holding spans of service, from
// the last lookback, newest first.
func (c Client) Traces(ctx context.Context, service string, limit int, lookback time.Duration) ([]Trace, error) {
	end := time.Now()
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)},
		"start": {strconv.FormatInt(end.Add(-lookback).UnixMicro(), 10)}, "end": {strconv.FormatInt(end.UnixMicro(), 10)}}
	var r response
	err := c.get(ctx, "/api/traces?"+q.Encode(), &r)
	if errors.Is(err, ErrNotFound) {
		return []Trace{}, nil // a service Jaeger never saw
	}
	if err != nil {
		return nil, err
	}
	out := make([]Trace, 0, len(r.Data))
	for _, t := range r.Data {
		out = append(out, convert(t))
	}
	slices.SortFunc(out, func(a, b Trace) int { return start(b).Compare(start(a)) })
	return out, nil
}

// Trace returns one trace, or ErrNotFound.
func (c Client) Trace(ctx context.Context, id string) (Trace, error) {
	var r response
	if err := c.get(ctx, "/api/traces/"+url.PathEscape(id), &r); err != nil {
		return Trace{}, err
	}
	if len(r.Data) == 0 || len(r.Data[0].Spans) == 0 {
		return Trace{}, ErrNotFound
	}
	return convert(r.Data[0]), nil
}

func start(t Trace) time.Time {
	if len(t.Spans) == 0 {
		return time.Time{}
	}
	return t.Spans[0].Start
}

// maxResponse bounds what is read of one answer: a search of 100 large
// traces stays well below it.
const maxResponse = 64 << 20

func (c Client) get(ctx context.Context, path string, v *response) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ErrNotFound
	}
	decodeErr := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(v)
	if resp.StatusCode != http.StatusOK {
		msg := resp.Status
		if decodeErr == nil && len(v.Errors) > 0 {
			msg += ": " + v.Errors[0].Msg
		}
		return fmt.Errorf("%w: %s answered %s", ErrUnavailable, path, msg)
	}
	if decodeErr != nil {
		return fmt.Errorf("%w: decode %s: %w", ErrUnavailable, path, decodeErr)
	}
	return nil
}

func convert(t wireTrace) Trace {
	out := Trace{TraceID: t.TraceID, Spans: make([]Span, 0, len(t.Spans))}
	for _, ws := range t.Spans {
		s := Span{TraceID: ws.TraceID, SpanID: ws.SpanID, Service: t.Processes[ws.ProcessID].ServiceName,
			Operation: ws.OperationName, Start: time.UnixMicro(ws.StartTime).UTC(), DurationUS: ws.Duration,
			Links: []Link{}, Attributes: map[string]any{}, Status: "ok"}
		for _, ref := range ws.References {
			if ref.RefType == "CHILD_OF" && s.ParentSpanID == "" && ref.TraceID == ws.TraceID {
				s.ParentSpanID = ref.SpanID
				continue
			}
			s.Links = append(s.Links, Link{ref.TraceID, ref.SpanID})
		}
		for _, tag := range ws.Tags {
			s.Attributes[tag.Key] = tag.Value
			if (tag.Key == "error" && tag.Value == true) || (tag.Key == "otel.status_code" && tag.Value == "ERROR") {
				s.Status = "error"
			}
		}
		out.Spans = append(out.Spans, s)
	}
	slices.SortFunc(out.Spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return out
}
