package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/worker"
)

// Bounds on a cluster's definition and on created topics.
const (
	MaxBootstrapServers  = 32
	MaxTopicPartitions   = 10000
	MaxReplicationFactor = 32
)

var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

type clusterJSON struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	BootstrapServers []string  `json:"bootstrap_servers"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func toClusterJSON(c apiserver.Cluster) clusterJSON {
	return clusterJSON{c.ID, c.Name, c.BootstrapServers, c.CreatedAt.UTC(), c.UpdatedAt.UTC()}
}

type clusterInput struct {
	Name             string   `json:"name"`
	BootstrapServers []string `json:"bootstrap_servers"`
}

func (in clusterInput) validate() (apiserver.Cluster, error) {
	if in.Name == "" {
		return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "name", "is required")
	}
	if !clusterName.MatchString(in.Name) {
		return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "name",
			"must start with a letter or digit and hold only letters, digits, '.', '_' and '-', at most 64 of them")
	}
	if len(in.BootstrapServers) == 0 {
		return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "bootstrap_servers", "must list at least one host:port")
	}
	if len(in.BootstrapServers) > MaxBootstrapServers {
		return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, "bootstrap_servers", "must list at most %d servers", MaxBootstrapServers)
	}
	seen := map[string]bool{}
	for i, s := range in.BootstrapServers {
		field := fmt.Sprintf("bootstrap_servers[%d]", i)
		if reason := kafkaadmin.ValidServer(s); reason != "" {
			return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, field, "%s", reason)
		}
		if seen[s] {
			return apiserver.Cluster{}, apiserver.FieldErrorf(apiserver.CodeInvalid, field, "is listed twice")
		}
		seen[s] = true
	}
	return apiserver.Cluster{Name: in.Name, BootstrapServers: in.BootstrapServers}, nil
}

func (s *Server) listClusters(c *gin.Context) {
	cs, err := s.db.ListClusters(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]clusterJSON, len(cs))
	for i, cl := range cs {
		out[i] = toClusterJSON(cl)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) createCluster(c *gin.Context) {
	cl, ok := s.clusterBody(c)
	if !ok {
		return
	}
	saved, err := s.db.CreateCluster(c.Request.Context(), cl)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toClusterJSON(saved))
}

// clusterBody decodes and validates a cluster from the request body; on
// failure it has answered the request.
func (s *Server) clusterBody(c *gin.Context) (apiserver.Cluster, bool) {
	var in clusterInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return apiserver.Cluster{}, false
	}
	cl, err := in.validate()
	if err != nil {
		s.fail(c, err)
		return apiserver.Cluster{}, false
	}
	return cl, true
}

// cluster loads the cluster the path names.
func (s *Server) cluster(c *gin.Context) (apiserver.Cluster, bool) {
	id, err := pathID(c)
	if err == nil {
		var cl apiserver.Cluster
		if cl, err = s.db.Cluster(c.Request.Context(), id); err == nil {
			return cl, true
		}
	}
	s.fail(c, err)
	return apiserver.Cluster{}, false
}

func (s *Server) getCluster(c *gin.Context) {
	if cl, ok := s.cluster(c); ok {
		c.JSON(http.StatusOK, toClusterJSON(cl))
	}
}

func (s *Server) putCluster(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cl, ok := s.clusterBody(c)
	if !ok {
		return
	}
	saved, err := s.plane.UpdateCluster(c.Request.Context(), id, cl, actorName(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toClusterJSON(saved))
}

func (s *Server) deleteCluster(c *gin.Context) {
	id, err := pathID(c)
	if err == nil {
		err = s.db.DeleteCluster(c.Request.Context(), id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// checkCluster answers 200 whether or not the cluster is reachable: the
// check itself worked, its outcome is in the body.
func (s *Server) checkCluster(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	check, err := kafkaDo(c.Request.Context(), s, cl.BootstrapServers, func(kc *kafkaadmin.Admin, ctx context.Context) (kafkaadmin.Check, error) {
		return kc.Check(ctx), nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, check)
}

func (s *Server) listTopics(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	ts, err := kafkaDo(c.Request.Context(), s, cl.BootstrapServers, (*kafkaadmin.Admin).Topics)
	if err != nil {
		s.fail(c, kafkaError(err, cl))
		return
	}
	c.JSON(http.StatusOK, ts)
}

type topicInput struct {
	Name              string `json:"name"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
}

func (in topicInput) validate() error {
	if reason := worker.ValidTopic(in.Name); reason != "" {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "name", "%s", reason)
	}
	if in.Partitions < 1 || in.Partitions > MaxTopicPartitions {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "partitions", "must be between 1 and %d", MaxTopicPartitions)
	}
	if in.ReplicationFactor < 1 || in.ReplicationFactor > MaxReplicationFactor {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "replication_factor", "must be between 1 and %d", MaxReplicationFactor)
	}
	return nil
}

func (s *Server) createTopic(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	var in topicInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if err := in.validate(); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := kafkaDo(c.Request.Context(), s, cl.BootstrapServers, func(kc *kafkaadmin.Admin, ctx context.Context) (struct{}, error) {
		return struct{}{}, kc.CreateTopic(ctx, in.Name, in.Partitions, in.ReplicationFactor)
	}); err != nil {
		s.fail(c, kafkaError(err, cl))
		return
	}
	c.JSON(http.StatusCreated, in)
}

// kafkaError maps kafkaadmin's errors to the API's codes.
func kafkaError(err error, cl apiserver.Cluster) error {
	if ie, ok := errors.AsType[*kafkaadmin.InvalidError](err); ok {
		return &apiserver.Error{Code: apiserver.CodeInvalid, Field: ie.Field, Message: "refused by the cluster: " + ie.Err.Error(), Err: err}
	}
	switch {
	case errors.Is(err, kafkaadmin.ErrTopicExists):
		return &apiserver.Error{Code: apiserver.CodeConflict, Field: "name", Message: "a topic with this name already exists", Err: err}
	case errors.Is(err, kafkaadmin.ErrUnreachable):
		return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: fmt.Sprintf("cluster %q did not answer: %v", cl.Name, errors.Unwrap(err)), Err: err}
	}
	return err
}

// Bounds of GET /clusters/:id/topics/:topic/messages.
const (
	DefaultBrowseLimit = 50
	MaxBrowseLimit     = kafkaadmin.MaxBrowse
)

// browseStart reads where to start from ?offset=, ?timestamp= or ?from=
// (at most one of them; none is from=latest).
func browseStart(c *gin.Context) (kafkaadmin.Start, error) {
	var start kafkaadmin.Start
	given := ""
	for _, name := range []string{"offset", "timestamp", "from"} {
		v, set := c.GetQuery(name)
		if !set {
			continue
		}
		if given != "" {
			return start, apiserver.FieldErrorf(apiserver.CodeInvalid, name, "give only one of offset, timestamp and from (%s is given)", given)
		}
		given = name
		switch name {
		case "offset":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return start, apiserver.FieldErrorf(apiserver.CodeInvalid, "offset", "must be an integer of at least 0")
			}
			start = kafkaadmin.Start{Kind: kafkaadmin.StartOffset, Offset: n}
		case "timestamp":
			t, ok := parseTimestamp(v)
			if !ok {
				return start, apiserver.FieldErrorf(apiserver.CodeInvalid, "timestamp", "must be an RFC 3339 time (2006-01-02T15:04:05Z) or milliseconds since 1970")
			}
			start = kafkaadmin.Start{Kind: kafkaadmin.StartTime, Time: t}
		case "from":
			switch v {
			case "latest":
				start = kafkaadmin.Start{Kind: kafkaadmin.StartLatest}
			case "earliest":
				start = kafkaadmin.Start{Kind: kafkaadmin.StartEarliest}
			default:
				return start, apiserver.FieldErrorf(apiserver.CodeInvalid, "from", `must be "latest" or "earliest"`)
			}
		}
	}
	return start, nil
}

// parseTimestamp reads an RFC 3339 time or milliseconds since the epoch.
func parseTimestamp(v string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 || ms > 1<<53 {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// browseMessages reads one partition of a topic of the cluster: the
// latest ?limit= records, or from ?offset=, ?timestamp= or ?from=earliest.
func (s *Server) browseMessages(c *gin.Context) {
	cl, ok := s.cluster(c)
	if !ok {
		return
	}
	topic := c.Param("topic")
	if reason := worker.ValidTopic(topic); reason != "" {
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no topic %q on cluster %q", topic, cl.Name))
		return
	}
	partition, err := queryInt(c, "partition", 0, 0, 1<<31-1)
	var start kafkaadmin.Start
	if err == nil {
		start, err = browseStart(c)
	}
	var limit int64
	if err == nil {
		limit, err = queryInt(c, "limit", DefaultBrowseLimit, 1, MaxBrowseLimit)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := kafkaDo(c.Request.Context(), s, cl.BootstrapServers, func(kc *kafkaadmin.Admin, ctx context.Context) (kafkaadmin.MessagePage, error) {
		return kc.Browse(ctx, topic, int32(partition), start, int(limit))
	})
	switch {
	case errors.Is(err, kafkaadmin.ErrUnknownTopic):
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no topic %q on cluster %q", topic, cl.Name))
	case errors.Is(err, kafkaadmin.ErrUnknownPartition):
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "partition", "%s", strings.TrimPrefix(err.Error(), kafkaadmin.ErrUnknownPartition.Error()+": ")))
	case err != nil:
		s.fail(c, kafkaError(err, cl))
	default:
		c.JSON(http.StatusOK, page)
	}
}
