package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
	"github.com/tributary-etl/tributary/apiserver/events"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/worker"
)

// redriveTimeout bounds one redrive: up to deadletter.MaxSelection records
// read, claimed one by one in MySQL, sent and confirmed. Reading a page is
// bounded by cfg.KafkaTimeout like other Kafka calls.
const redriveTimeout = time.Minute

func (s *Server) mountDeadLetters(v1 *gin.RouterGroup) {
	v1.GET("/workers/:id/dead-letters", s.require(apiserver.RoleViewer), s.listDeadLetters)
	v1.POST("/workers/:id/dead-letters/redrive", s.require(apiserver.RoleEditor), s.redriveDeadLetters)
}

// workerKafka is an admin client of w's cluster; the caller closes it.
func workerKafka(w apiserver.ConsumerConfig) (*kafkaadmin.Admin, error) {
	return kafkaadmin.Dial(worker.SplitList(w.KafkaBootstrapServer))
}

// queryInt reads an optional integer query parameter in [lo, hi].
func queryInt(c *gin.Context, name string, def, lo, hi int64) (int64, error) {
	v, set := c.GetQuery(name)
	if !set {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, apiserver.FieldErrorf(apiserver.CodeInvalid, name, "must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}

// listDeadLetters answers a page of the worker's dead-letter topic from
// ?partition= and ?offset= (default: the start), at most ?limit= records.
func (s *Server) listDeadLetters(c *gin.Context) {
	w, ok := s.worker(c)
	if !ok {
		return
	}
	var from deadletter.Cursor
	p, err := queryInt(c, "partition", 0, 0, 1<<31-1)
	if err == nil {
		from.Partition = int32(p)
		from.Offset, err = queryInt(c, "offset", 0, 0, 1<<63-1)
	}
	limit, lerr := queryInt(c, "limit", deadletter.DefaultPageSize, 1, deadletter.MaxPageSize)
	if err == nil {
		err = lerr
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	kc, err := workerKafka(w)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.KafkaTimeout)
	defer cancel()
	page, err := deadletter.Browse(ctx, kc, s.db, deadletter.Topic(w), from, int(limit))
	if err != nil {
		s.fail(c, s.kafkaOpError(err))
		return
	}
	c.JSON(http.StatusOK, page)
}

// redriveInput selects the dead letters to send back (deadletter.Selection).
type redriveInput struct {
	Offsets []deadletter.Cursor `json:"offsets,omitempty"`  // these records
	UpTo    []deadletter.Cursor `json:"up_to,omitempty"`    // every record at or below the offset, per partition
	Class   string              `json:"class,omitempty"`    // only this error class
	ToTopic string              `json:"to_topic,omitempty"` // an input of the worker; default: each record's source
	Reason  string              `json:"reason,omitempty"`   // why, for the event log
}

// redriveDeadLetters sends the selected dead letters back (see package
// deadletter): 200 with an outcome per record, also when some were
// refused; asking again for the same records sends nothing.
func (s *Server) redriveDeadLetters(c *gin.Context) {
	w, ok := s.worker(c)
	if !ok {
		return
	}
	var in redriveInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	kc, err := workerKafka(w)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer kc.Close()
	ctx, cancel := context.WithTimeout(c.Request.Context(), redriveTimeout)
	defer cancel()
	dw := deadletter.Worker{ID: w.ID, Name: w.ConsumerName, Inputs: w.TopicsInput, Topic: deadletter.Topic(w)}
	sel := deadletter.Selection{Offsets: in.Offsets, UpTo: in.UpTo, Class: in.Class, ToTopic: in.ToTopic}
	res, err := deadletter.Redrive(ctx, kc, s.db, dw, sel, actorName(c))
	if err != nil {
		s.fail(c, s.kafkaOpError(err))
		return
	}
	if res.Redriven > 0 {
		s.record(c, events.ActionRedrive, w.ID, in, map[string]int{"redriven": res.Redriven, "already_redriven": res.AlreadyRedriven,
			"refused": res.Refused, "failed": res.Failed}, in.Reason)
	}
	c.JSON(http.StatusOK, res)
}

// kafkaOpError maps what an operation on a worker's cluster failed with:
// its own refusals pass, a cluster that did not answer is 503.
func (s *Server) kafkaOpError(err error) error {
	if _, ok := errors.AsType[*apiserver.Error](err); ok {
		return err
	}
	if errors.Is(err, kafkaadmin.ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) {
		return s.kafkaUnavailable("the worker's Kafka cluster", err)
	}
	return err
}
