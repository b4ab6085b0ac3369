package alerting

import (
	"context"
	"log/slog"
	"time"

	"github.com/tributary-etl/tributary/apiserver/events"
)

// The events this package records, and who they name as the actor.
const (
	ActionAlertFiring   = "alert_firing"
	ActionAlertResolved = "alert_resolved"
	ActionForwardFailed = "alert_forward_failed"
	ActorAlertmanager   = "alertmanager" // firing and resolved: Alertmanager said so
	ActorAlerting       = "alerting"     // a notification this server failed to forward
)

// eventTimeout bounds recording one event, so that a slow database does
// not hold the webhook's answer (Alertmanager times out and retries).
const eventTimeout = 3 * time.Second

// WorkerIDs resolves a worker label to the id of the worker with that
// consumer name; ok is false when there is none.
type WorkerIDs func(ctx context.Context, name string) (id int64, ok bool, err error)

// Receiver takes Alertmanager's payloads: it stores their alerts and
// tells the event log and the forwarder about those that changed. It is
// safe for concurrent use.
type Receiver struct {
	store   *Store
	events  *events.Log
	workers WorkerIDs
	forward *Forwarder
	log     *slog.Logger
}

// NewReceiver returns a receiver storing into store. events and forward
// may be nil (no events, no forwarding); workers may be nil when no
// worker is known.
func NewReceiver(store *Store, ev *events.Log, workers WorkerIDs, forward *Forwarder, log *slog.Logger) *Receiver {
	if log == nil {
		log = slog.Default()
	}
	return &Receiver{store: store, events: ev, workers: workers, forward: forward, log: log}
}

// Receipt is what a payload did.
type Receipt struct {
	Received int `json:"received"` // alerts in the payload
	Changed  int `json:"changed"`  // of which new or with a new status
}

// Receive parses p (a malformed payload is a CodeBadRequest error naming
// the field) and upserts each alert in order. An error from the database
// stops it: the alerts before it are stored, and Alertmanager's retry of
// the whole payload changes them no further.
func (r *Receiver) Receive(ctx context.Context, p Payload) (Receipt, error) {
	alerts, err := Parse(p)
	if err != nil {
		return Receipt{}, err
	}
	res := Receipt{Received: len(alerts)}
	for _, a := range alerts {
		changed, prev, err := r.store.Upsert(ctx, a)
		if err != nil {
			return res, err
		}
		if !changed {
			continue
		}
		res.Changed++
		id := r.workerID(ctx, a.Worker)
		if id > 0 {
			r.record(ctx, a, prev, id)
		}
		if r.forward != nil {
			r.forward.Enqueue(ctx, a, id)
		}
	}
	return res, nil
}

// workerID is the id of the worker named name, 0 when none is (or the
// lookup failed, which is logged: the alert is stored either way).
func (r *Receiver) workerID(ctx context.Context, name string) int64 {
	if name == "" || r.workers == nil {
		return 0
	}
	id, ok, err := r.workers(ctx, name)
	if err != nil {
		r.log.Warn("alert: look up its worker", "worker", name, "error", err.Error())
		return 0
	}
	if !ok {
		return 0
	}
	return id
}

func (r *Receiver) record(ctx context.Context, a Alert, prev string, workerID int64) {
	if r.events == nil {
		return
	}
	action := ActionAlertFiring
	if a.Status == StatusResolved {
		action = ActionAlertResolved
	}
	reason := a.Name
	if a.Summary != "" {
		reason += ": " + a.Summary
	}
	to := map[string]string{"alert": a.Name, "fingerprint": a.Fingerprint, "status": a.Status, "severity": a.Severity}
	var from []byte
	if prev != "" {
		from = events.JSON(map[string]string{"status": prev})
	}
	ctx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	err := r.events.Record(ctx, events.Event{Actor: ActorAlertmanager, Action: action, WorkerID: workerID,
		From: from, To: events.JSON(to), Reason: reason})
	if err != nil {
		r.log.Error("record event", "action", action, "worker_id", workerID, "error", err.Error())
	}
}
