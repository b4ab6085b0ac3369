package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver/events"
)

// Bounds of the Forwarder.
const (
	QueueSize    = 256              // notifications waiting; more are dropped, each with a log line and an event
	SendTimeout  = 10 * time.Second // one attempt: connect, send, read the answer
	Attempts     = 3                // tries per notification
	FirstBackoff = time.Second      // wait before the second try, doubled before each later one
)

// Forwarder posts alert changes to a chat webhook (TRIBUTARY_ALERT_WEBHOOK_URL)
// from its own goroutine (Run), in the order they were queued. Enqueue is
// safe for concurrent use and never blocks.
type Forwarder struct {
	url     string
	client  *http.Client
	queue   chan notice
	events  *events.Log
	log     *slog.Logger
	backoff time.Duration
}

// ForwarderOptions are the Forwarder's collaborators; zero fields take
// defaults.
type ForwarderOptions struct {
	Events  *events.Log   // failures are recorded here too; nil: only logged
	Log     *slog.Logger  // nil: slog.Default()
	Client  *http.Client  // nil: a client without its own timeout (SendTimeout bounds each attempt)
	Backoff time.Duration // 0: FirstBackoff
}

type notice struct {
	alert    Alert
	workerID int64 // for the failure event; 0 when the worker is unknown
}

// NewForwarder returns a forwarder to webhookURL; nothing is sent until
// Run is called.
func NewForwarder(webhookURL string, o ForwarderOptions) *Forwarder {
	f := &Forwarder{url: webhookURL, client: o.Client, queue: make(chan notice, QueueSize), events: o.Events,
		log: o.Log, backoff: o.Backoff}
	if f.client == nil {
		f.client = &http.Client{}
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.backoff <= 0 {
		f.backoff = FirstBackoff
	}
	return f
}

// Enqueue queues a notification of a, whose worker has id workerID (0:
// none known). When the queue is full the notification is dropped, logged
// and recorded as a failure.
func (f *Forwarder) Enqueue(ctx context.Context, a Alert, workerID int64) {
	select {
	case f.queue <- notice{a, workerID}:
	default:
		f.failed(ctx, notice{a, workerID}, fmt.Errorf("the queue of %d notifications is full", QueueSize))
	}
}

// Run sends queued notifications until ctx ends; those still queued then
// are dropped. It returns ctx's error.
func (f *Forwarder) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			if n := len(f.queue); n > 0 {
				f.log.Warn("alert notifications dropped at shutdown", "count", n)
			}
			return ctx.Err()
		case n := <-f.queue:
			if err := f.deliver(ctx, n.alert); err != nil && ctx.Err() == nil {
				f.failed(ctx, n, err)
			}
		}
	}
}

// deliver posts a's message, retrying failures that may pass.
func (f *Forwarder) deliver(ctx context.Context, a Alert) error {
	body, err := json.Marshal(message(a))
	if err != nil {
		return err
	}
	wait := f.backoff
	for attempt := 1; ; attempt++ {
		retry, err := f.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt == Attempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// post makes one attempt; retry says whether another may succeed.
func (f *Forwarder) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("the webhook URL is not usable")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return true, withoutURL(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("the webhook answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	// 4xx but timeouts and throttling mean the message or the URL is
	// wrong: sending it again changes nothing.
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusRequestTimeout, err
}

// withoutURL drops the URL net/http quotes in its errors: a webhook URL
// carries its credential.
func withoutURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s to the webhook: %w", ue.Op, ue.Err)
	}
	return err
}

// failed logs and records a notification that was not delivered.
func (f *Forwarder) failed(ctx context.Context, n notice, cause error) {
	reason := fmt.Sprintf("notifying %s (%s) failed: %v", n.alert.Name, n.alert.Status, cause)
	f.log.Error("forward alert", "alert", n.alert.Name, "fingerprint", n.alert.Fingerprint,
		"status", n.alert.Status, "worker", n.alert.Worker, "error", cause.Error())
	if f.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventTimeout)
	defer cancel()
	err := f.events.Record(ctx, events.Event{Actor: ActorAlerting, Action: ActionForwardFailed, WorkerID: n.workerID,
		To:     events.JSON(map[string]string{"alert": n.alert.Name, "fingerprint": n.alert.Fingerprint, "status": n.alert.Status}),
		Reason: reason})
	if err != nil {
		f.log.Error("record event", "action", ActionForwardFailed, "worker_id", n.workerID, "error", err.Error())
	}
}
