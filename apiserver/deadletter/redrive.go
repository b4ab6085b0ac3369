package deadletter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
)

// MaxRedrives is how many times one message may be redriven: a dead
// letter whose tributary.redrive.count has reached it is refused, so that
// a message the function keeps failing on cannot circle forever.
const MaxRedrives = 3

// ClaimTimeout is how long a redrive's claim of a record stands before
// another request may take it over (its sender presumably died between
// claiming and confirming).
const ClaimTimeout = 5 * time.Minute

// Worker is the worker whose dead letters are redriven.
type Worker struct {
	ID     int64
	Name   string
	Inputs []string
	Topic  string // its dead-letter topic (Topic)
}

// Outcome statuses.
const (
	StatusRedriven        = "redriven"
	StatusAlreadyRedriven = "already_redriven" // an earlier request sent it: not sent again
	StatusRefused         = "refused"
	StatusFailed          = "failed" // Kafka did not take it; asking again retries it
)

// Outcome is what happened to one selected dead letter.
type Outcome struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	To        *Redriven `json:"to,omitempty"`
}

// RedriveResult is a redrive's outcome, record by record in (partition, offset)
// order, with counts.
type RedriveResult struct {
	Topic           string    `json:"topic"`
	Redriven        int       `json:"redriven"`
	AlreadyRedriven int       `json:"already_redriven"`
	Refused         int       `json:"refused"`
	Failed          int       `json:"failed"`
	Outcomes        []Outcome `json:"outcomes"`
}

// Redrive sends the selected dead letters of w back to an input (see the
// package documentation), recording each in ledger. A bad selection is an
// *apiserver.Error naming its field; a record that cannot go is an Outcome
// saying why, not an error.
func Redrive(ctx context.Context, kc Kafka, ledger Ledger, w Worker, sel Selection, actor string) (RedriveResult, error) {
	res := RedriveResult{Topic: w.Topic, Outcomes: []Outcome{}}
	if err := sel.validate(w); err != nil {
		return res, err
	}
	bounds, err := kc.TopicBounds(ctx, w.Topic)
	if err != nil && !isUnknownTopic(err) {
		return res, err
	}
	spans, refused, err := sel.spans(bounds)
	if err != nil {
		return res, err
	}
	res.Outcomes = append(res.Outcomes, refused...)
	cluster, err := kc.ClusterID(ctx)
	if err != nil {
		return res, err
	}
	var plans []plan
	for _, sp := range spans {
		recs, err := kc.Read(ctx, w.Topic, sp.partition, sp.from, sp.to, int(sp.to-sp.from))
		if err != nil {
			return res, fmt.Errorf("read %s/%d: %w", w.Topic, sp.partition, err)
		}
		found := map[int64]bool{}
		for _, r := range recs {
			found[r.Offset] = true
			if sp.wanted != nil && !sp.wanted[r.Offset] {
				continue
			}
			switch p, refused, selected := sel.plan(w, r); {
			case !selected:
			case refused != nil:
				res.Outcomes = append(res.Outcomes, *refused)
			default:
				plans = append(plans, p)
			}
		}
		for off := range sp.wanted {
			if !found[off] {
				res.Outcomes = append(res.Outcomes, refuse(sp.partition, off, "no record at this offset (compacted or a transaction marker)"))
			}
		}
	}
	res.Outcomes = append(res.Outcomes, send(ctx, kc, ledger, cluster, w, plans, actor)...)
	slices.SortFunc(res.Outcomes, func(a, b Outcome) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	for _, o := range res.Outcomes {
		switch o.Status {
		case StatusRedriven:
			res.Redriven++
		case StatusAlreadyRedriven:
			res.AlreadyRedriven++
		case StatusRefused:
			res.Refused++
		case StatusFailed:
			res.Failed++
		}
	}
	return res, nil
}

// plan is one dead letter on its way back.
type plan struct {
	letter Letter
	rec    kafkaadmin.Record // what is sent
}

// plan builds what r becomes when redriven, or the refusal that stops
// it; selected is false for a record of a range the class filter leaves out.
func (sel Selection) plan(w Worker, r kafkaadmin.Record) (p plan, refused *Outcome, selected bool) {
	l := Decode(r)
	no := func(format string, args ...any) (plan, *Outcome, bool) {
		o := refuse(r.Partition, r.Offset, fmt.Sprintf(format, args...))
		return plan{}, &o, true
	}
	switch {
	case sel.Class != "" && l.Class != sel.Class:
		if len(sel.Offsets) > 0 {
			return no("class %q, not %q", l.Class, sel.Class)
		}
		return plan{}, nil, false
	case len(w.Inputs) > 1 && len(l.JoinTopics) > 0:
		return no("an aggregate joined from %s: sent to one input it would wait for fragments consumed long ago", strings.Join(l.JoinTopics, ", "))
	case l.RedriveCount >= MaxRedrives:
		return no("redriven %d times already (at most %d): the function keeps failing on it", l.RedriveCount, MaxRedrives)
	}
	to, partition := sel.ToTopic, int32(-1)
	if l.Source != nil && (to == "" || to == l.Source.Topic) {
		to, partition = l.Source.Topic, l.Source.Partition
	}
	switch {
	case to == "":
		return no("no %s header: choose to_topic", "tributary.source.topic")
	case !slices.Contains(w.Inputs, to):
		return no("its source %q is not an input of worker %s now: choose to_topic", to, w.Name)
	}
	hs := []kafkaadmin.Header{}
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, runtimePrefix) {
			hs = append(hs, h)
		}
	}
	hs = append(hs,
		kafkaadmin.Header{Key: HeaderRedriveCount, Value: []byte(strconv.Itoa(l.RedriveCount + 1))},
		kafkaadmin.Header{Key: HeaderRedriveFrom, Value: fmt.Appendf(nil, "%s/%d/%d", r.Topic, r.Partition, r.Offset)})
	return plan{l, kafkaadmin.Record{Topic: to, Partition: partition, Key: r.Key, Value: r.Value, Headers: hs}}, nil, true
}

// send claims, sends and confirms plans, returning their outcomes.
func send(ctx context.Context, kc Kafka, ledger Ledger, cluster string, w Worker, plans []plan, actor string) []Outcome {
	token := newToken()
	var outs []Outcome
	var owned []plan
	for _, p := range plans {
		e := Entry{Key: key(cluster, w.Topic, p.letter), WorkerID: w.ID, Token: token, ClaimedAt: time.Now(),
			Target: Target{Topic: p.rec.Topic, Partition: p.rec.Partition, Offset: -1}, Count: p.letter.RedriveCount + 1, Actor: actor}
		got, err := ledger.Claim(ctx, e, time.Now().Add(-ClaimTimeout))
		o := Outcome{Partition: p.letter.Partition, Offset: p.letter.Offset}
		switch {
		case err != nil:
			o.Status, o.Reason = StatusFailed, err.Error()
		case got.State == StateSent:
			o.Status, o.To = StatusAlreadyRedriven, &Redriven{got.Target.Topic, got.Target.Partition, got.Target.Offset, got.Actor, got.SentAt}
		case got.Token != token:
			o.Status, o.Reason = StatusRefused, fmt.Sprintf("another redrive (by %s) is sending it since %s", got.Actor, got.ClaimedAt.UTC().Format(time.RFC3339))
		default:
			owned = append(owned, p)
			continue
		}
		outs = append(outs, o)
	}
	if len(owned) == 0 {
		return outs
	}
	recs := make([]kafkaadmin.Record, len(owned))
	for i, p := range owned {
		recs[i] = p.rec
	}
	sent, sendErr := kc.Produce(ctx, recs)
	at := time.Now()
	for i, p := range owned {
		k := key(cluster, w.Topic, p.letter)
		o := Outcome{Partition: p.letter.Partition, Offset: p.letter.Offset}
		// The ledger calls must land even when the request's context ended
		// mid-send: an unconfirmed claim would hold the record for ClaimTimeout.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if i >= len(sent) || sent[i].Offset < 0 {
			o.Status, o.Reason = StatusFailed, fmt.Sprintf("not sent: %v", sendErr)
			if err := ledger.Release(lctx, k, token); err != nil {
				o.Reason += fmt.Sprintf("; and its claim stays for %s: %v", ClaimTimeout, err)
			}
		} else {
			t := Target{Topic: sent[i].Topic, Partition: sent[i].Partition, Offset: sent[i].Offset}
			o.Status, o.To = StatusRedriven, &Redriven{t.Topic, t.Partition, t.Offset, actor, at.UTC()}
			if err := ledger.Confirm(lctx, k, token, t, at); err != nil {
				o.Reason = "sent, but not recorded as sent: " + err.Error()
			}
		}
		cancel()
		outs = append(outs, o)
	}
	return outs
}

func key(cluster, topic string, l Letter) Key {
	return Key{Cluster: cluster, Topic: topic, Partition: l.Partition, Offset: l.Offset}
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
