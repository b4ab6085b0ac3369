package httpapi

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
)

// EventRecorder records an operational action: what was done (action), to
// which worker, by whom, from what to what, and why. The handlers of
// redrives and offset resets call it once per action, after it was done;
// an error from it is logged, never undoes the action.
type EventRecorder interface {
	Record(ctx context.Context, action string, workerID int64, actor string, from, to any, reason string) error
}

// Actions recorded by this package's handlers.
const (
	EventRedrive     = "redrive"
	EventOffsetReset = "offset_reset"
)

// WithEvents sets where operational actions are recorded (default: the
// server's log).
func WithEvents(r EventRecorder) Option { return func(s *Server) { s.events = r } }

// logEvents records events as log lines, until the events table exists.
type logEvents struct{ log *slog.Logger }

func (l logEvents) Record(ctx context.Context, action string, workerID int64, actor string, from, to any, reason string) error {
	l.log.LogAttrs(ctx, slog.LevelInfo, "event", slog.String("action", action), slog.Int64("worker_id", workerID),
		slog.String("actor", actor), slog.Any("from", from), slog.Any("to", to), slog.String("reason", reason))
	return nil
}

// record records an event, logging a failure to do so.
func (s *Server) record(c *gin.Context, action string, workerID int64, from, to any, reason string) {
	if err := s.events.Record(c.Request.Context(), action, workerID, actorName(c), from, to, reason); err != nil {
		s.log.Error("record event", "action", action, "worker_id", workerID, "error", err)
	}
}

// actorName is the acting user's email, "anonymous" without one.
func actorName(c *gin.Context) string {
	if u, ok := c.Get(ctxUser); ok {
		return u.(apiserver.User).Email
	}
	return "anonymous"
}
