package httpapi

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/worker"
)

// Bounds on a worker's settings.
const (
	MaxTimeoutSeconds = 86400
	MaxInstances      = 64
	MaxJoinKeyBytes   = 255
	// The lower bound of tombstone_ttl_seconds is the runtime's (its claim
	// timeout, 60 s; see validateRuntime).
	MaxTombstoneTTLSeconds = 7 * 86400
)

type workerJSON struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	InputTopics          []string        `json:"input_topics"`
	OutputTopics         []string        `json:"output_topics"`
	ClusterID            *int64          `json:"cluster_id"`
	KafkaBootstrapServer string          `json:"kafka_bootstrap_server"`
	Function             string          `json:"function"`
	FunctionVersion      string          `json:"function_version"`
	Metadata             json.RawMessage `json:"metadata"`
	TimeoutSeconds       int             `json:"timeout_seconds"`
	Instances            int             `json:"instances"`
	JoinKey              string          `json:"join_key"`
	ExpiryTopic          string          `json:"expiry_topic"`
	DeadLetterTopic      string          `json:"dead_letter_topic"`
	TombstoneTTLSeconds  int             `json:"tombstone_ttl_seconds"` // 0: the runtime's default (3600)
	PipelineID           *int64          `json:"pipeline_id"`
	Autoscale            *autoscaleJSON  `json:"autoscale"` // null: never set
	DesiredState         string          `json:"desired_state"`
	ConfigVersion        int             `json:"config_version"`
	UpdatedAt            time.Time       `json:"updated_at"`
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func toWorkerJSON(c apiserver.ConsumerConfig) workerJSON {
	meta := c.Metadatas
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	return workerJSON{c.ID, c.ConsumerName, nonNilTopics(c.TopicsInput), nonNilTopics(c.TopicsOutput), optionalID(c.ClusterID),
		c.KafkaBootstrapServer, c.FunctionName, c.FunctionVersion, meta, c.TimeoutSeconds, c.Instances, c.JoinKey,
		c.ExpiryTopic, c.DeadLetterTopic, c.TombstoneTTLSeconds, optionalID(c.PipelineID), toAutoscaleJSON(c.Autoscale),
		c.DesiredState, c.ConfigVersion, c.UpdatedAt.UTC()}
}

func nonNilTopics(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// workerSettings are a worker's editable settings, as POST and PUT take
// them and as a pipeline graph's workers may carry them.
type workerSettings struct {
	ClusterID            *int64          `json:"cluster_id,omitempty"`
	KafkaBootstrapServer string          `json:"kafka_bootstrap_server,omitempty"`
	Function             string          `json:"function,omitempty"`
	FunctionVersion      string          `json:"function_version,omitempty"`
	Metadata             json.RawMessage `json:"metadata,omitempty"`
	TimeoutSeconds       *int            `json:"timeout_seconds,omitempty"`
	Instances            *int            `json:"instances,omitempty"`
	JoinKey              string          `json:"join_key,omitempty"`
	ExpiryTopic          string          `json:"expiry_topic,omitempty"`
	DeadLetterTopic      string          `json:"dead_letter_topic,omitempty"`
	TombstoneTTLSeconds  *int            `json:"tombstone_ttl_seconds,omitempty"` // 0: the runtime's default
	Autoscale            *autoscaleJSON  `json:"autoscale,omitempty"`             // absent or null: none
}

type workerInput struct {
	Name         string   `json:"name"`
	InputTopics  []string `json:"input_topics"`
	OutputTopics []string `json:"output_topics"`
	workerSettings
}

// worker validates in and returns the config to store; prefix is put
// before field names ("graph.workers[2]."). Defaults fill what is absent.
func (in workerInput) worker(prefix string) (apiserver.ConsumerConfig, error) {
	bad := func(field, format string, args ...any) error {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+field, format, args...)
	}
	c := apiserver.ConsumerConfig{ConsumerName: strings.TrimSpace(in.Name), TopicsInput: in.InputTopics,
		TopicsOutput: in.OutputTopics, KafkaBootstrapServer: strings.TrimSpace(in.KafkaBootstrapServer),
		FunctionName: in.Function, FunctionVersion: in.FunctionVersion, TimeoutSeconds: 240, Instances: 1,
		JoinKey: cmpOr(in.JoinKey, worker.DefaultJoinKey), ExpiryTopic: in.ExpiryTopic, DeadLetterTopic: in.DeadLetterTopic}
	if in.ClusterID != nil {
		if *in.ClusterID <= 0 {
			return c, bad("cluster_id", "must be the id of a registered cluster")
		}
		c.ClusterID = *in.ClusterID
	}
	if err := checkTopics(in.InputTopics, in.OutputTopics, bad); err != nil {
		return c, err
	}
	if (in.Function == "") != (in.FunctionVersion == "") {
		return c, bad("function", "function and function_version go together: give both or neither")
	}
	if in.TimeoutSeconds != nil {
		if c.TimeoutSeconds = *in.TimeoutSeconds; c.TimeoutSeconds < 1 || c.TimeoutSeconds > MaxTimeoutSeconds {
			return c, bad("timeout_seconds", "must be between 1 and %d", MaxTimeoutSeconds)
		}
	}
	if in.TombstoneTTLSeconds != nil {
		c.TombstoneTTLSeconds = *in.TombstoneTTLSeconds
		if c.TombstoneTTLSeconds > MaxTombstoneTTLSeconds {
			return c, bad("tombstone_ttl_seconds", "must be at most %d (0: the default, 3600)", MaxTombstoneTTLSeconds)
		}
	}
	if in.Instances != nil {
		if c.Instances = *in.Instances; c.Instances < 1 || c.Instances > MaxInstances {
			return c, bad("instances", "must be between 1 and %d", MaxInstances)
		}
	}
	var err error
	if c.Autoscale, err = in.Autoscale.policy(prefix + "autoscale."); err != nil {
		return c, err
	}
	if len(c.JoinKey) > MaxJoinKeyBytes {
		return c, bad("join_key", "must be at most %d bytes", MaxJoinKeyBytes)
	}
	if len(in.Metadata) > MaxMetadataBytes {
		return c, bad("metadata", "exceeds %d bytes", MaxMetadataBytes)
	}
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		if in.Metadata[0] != '{' {
			return c, bad("metadata", "must be a JSON object or null")
		}
		c.Metadatas = in.Metadata
	}
	if c.ClusterID == 0 {
		if c.KafkaBootstrapServer == "" {
			return c, bad("kafka_bootstrap_server", "is required when cluster_id is not given")
		}
		for _, b := range worker.SplitList(c.KafkaBootstrapServer) {
			if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
				return c, bad("kafka_bootstrap_server", "%q is not host:port", b)
			}
		}
	}
	return c, validateRuntime(c, prefix)
}

// checkTopics checks each topic name, that no list names a topic twice and
// that no topic is both read and written, naming the element at fault
// ("input_topics[1]"); the runtime's own check would name only the list.
func checkTopics(inputs, outputs []string, bad func(field, format string, args ...any) error) error {
	if len(inputs) == 0 {
		return bad("input_topics", "needs at least one topic")
	}
	in, out := map[string]bool{}, map[string]bool{}
	for i, t := range inputs {
		f := "input_topics[" + strconv.Itoa(i) + "]"
		if r := worker.ValidTopic(t); r != "" {
			return bad(f, "topic %q %s", t, r)
		}
		if in[t] {
			return bad(f, "topic %q is listed twice", t)
		}
		in[t] = true
	}
	for i, t := range outputs {
		f := "output_topics[" + strconv.Itoa(i) + "]"
		switch r := worker.ValidTopic(t); {
		case r != "":
			return bad(f, "topic %q %s", t, r)
		case out[t]:
			return bad(f, "topic %q is listed twice", t)
		case in[t]:
			return bad(f, "topic %q is also an input: the worker would consume its own output", t)
		}
		out[t] = true
	}
	return nil
}

// runtimeFields maps the runtime's field names to this API's.
var runtimeFields = map[string]string{"consumer_name": "name", "topics_input": "input_topics",
	"topics_output": "output_topics", "metadatas": "metadata", "timeout": "timeout_seconds",
	"tombstone_ttl": "tombstone_ttl_seconds"}

// validateRuntime applies the worker runtime's own rules, so that the API
// never stores a config a worker would refuse.
func validateRuntime(c apiserver.ConsumerConfig, prefix string) error {
	brokers := worker.SplitList(c.KafkaBootstrapServer)
	if len(brokers) == 0 {
		brokers = []string{"from-cluster:9092"} // filled from the cluster when stored
	}
	wc := worker.Config{ConsumerName: c.ConsumerName, TopicsInput: c.TopicsInput, TopicsOutput: c.TopicsOutput,
		Brokers: brokers, Metadata: c.Metadatas, RedisAddr: "set-by-runtime", JoinKey: c.JoinKey,
		Timeout: time.Duration(c.TimeoutSeconds) * time.Second, ExpiryTopic: c.ExpiryTopic, DeadLetter: c.DeadLetterTopic,
		TombstoneTTL: time.Duration(c.TombstoneTTLSeconds) * time.Second}
	if err := wc.Validate(); err != nil {
		if fe, ok := errors.AsType[*worker.FieldError](err); ok {
			return apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+cmpOr(runtimeFields[fe.Field], fe.Field), "%s", fe.Reason)
		}
		return apiserver.Errorf(apiserver.CodeInvalid, "%v", err)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) mountWorkers(v1 *gin.RouterGroup) {
	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.GET("/workers", viewer, s.listWorkers)
	v1.GET("/workers/overview", viewer, s.workersOverview) // workers_overview.go
	v1.POST("/workers", editor, s.createWorker)
	v1.GET("/workers/:id", viewer, s.getWorker)
	v1.PUT("/workers/:id", editor, s.putWorker)
	v1.DELETE("/workers/:id", editor, s.deleteWorker)
	v1.GET("/workers/:id/versions", viewer, s.workerVersions)
	v1.POST("/workers/:id/rollback", editor, s.rollbackWorker)
}

func (s *Server) listWorkers(c *gin.Context) {
	var pipeline int64
	if p := c.Query("pipeline_id"); p != "" {
		var err error
		if pipeline, err = strconv.ParseInt(p, 10, 64); err != nil || pipeline <= 0 {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "pipeline_id", "must be a positive integer"))
			return
		}
	}
	ws, err := s.db.Workers(c.Request.Context(), pipeline)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]workerJSON, len(ws))
	for i, w := range ws {
		out[i] = toWorkerJSON(w)
	}
	c.JSON(http.StatusOK, out)
}

// workerBody decodes and validates a POST or PUT body.
func (s *Server) workerBody(c *gin.Context) (apiserver.ConsumerConfig, bool) {
	var in workerInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return apiserver.ConsumerConfig{}, false
	}
	w, err := in.worker("")
	if err != nil {
		s.fail(c, err)
		return w, false
	}
	return w, true
}

func (s *Server) createWorker(c *gin.Context) {
	w, ok := s.workerBody(c)
	if !ok {
		return
	}
	saved, err := s.db.CreateWorker(c.Request.Context(), w, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.notifyChanged()
	c.JSON(http.StatusCreated, toWorkerJSON(saved))
}

// workerID parses the :id parameter; a malformed id is a 404 like a
// missing one.
func (s *Server) workerID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id"))
		return 0, false
	}
	return id, true
}

// worker loads the worker named by :id, answering 404 itself.
func (s *Server) worker(c *gin.Context) (apiserver.ConsumerConfig, bool) {
	id, ok := s.workerID(c)
	if !ok {
		return apiserver.ConsumerConfig{}, false
	}
	w, err := s.db.ConsumerConfig(c.Request.Context(), id)
	if apiserver.ErrorCode(err) == apiserver.CodeNotFound {
		err = apiserver.Errorf(apiserver.CodeNotFound, "no worker with that id")
	}
	if err != nil {
		s.fail(c, err)
		return w, false
	}
	return w, true
}

func (s *Server) getWorker(c *gin.Context) {
	if w, ok := s.worker(c); ok {
		c.JSON(http.StatusOK, toWorkerJSON(w))
	}
}

func (s *Server) putWorker(c *gin.Context) {
	id, ok := s.workerID(c)
	if !ok {
		return
	}
	w, ok := s.workerBody(c)
	if !ok {
		return
	}
	saved, err := s.db.UpdateWorker(c.Request.Context(), id, w, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.notifyChanged()
	c.JSON(http.StatusOK, toWorkerJSON(saved))
}

func (s *Server) deleteWorker(c *gin.Context) {
	id, ok := s.workerID(c)
	if !ok {
		return
	}
	if err := s.db.DeleteWorker(c.Request.Context(), id, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	s.notifyChanged() // its job, if any, is stopped by the reconciler
	c.Status(http.StatusNoContent)
}

type versionJSON struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy *int64    `json:"created_by"`
	// CreatedByEmail is that user's email; null when not known.
	CreatedByEmail *string         `json:"created_by_email"`
	Snapshot       json.RawMessage `json:"snapshot"`
}

func (s *Server) workerVersions(c *gin.Context) {
	w, ok := s.worker(c)
	if !ok {
		return
	}
	vs, err := s.db.ConfigVersions(c.Request.Context(), w.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		out[i] = toVersionJSON(v)
	}
	c.JSON(http.StatusOK, out)
}

func toVersionJSON(v mysql.ConfigVersion) versionJSON {
	var by *int64
	if v.CreatedBy.Valid {
		by = &v.CreatedBy.Int64
	}
	var email *string
	if v.CreatedByEmail != "" {
		email = &v.CreatedByEmail
	}
	return versionJSON{v.Version, v.CreatedAt.UTC(), by, email, v.Snapshot}
}

type rollbackInput struct {
	Version int `json:"version"`
}

func (s *Server) rollbackWorker(c *gin.Context) {
	id, ok := s.workerID(c)
	if !ok {
		return
	}
	var in rollbackInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Version < 1 {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "version", "must be a config version number (1 or more)"))
		return
	}
	w, err := s.plane.Rollback(c.Request.Context(), id, in.Version, actorName(c), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toWorkerJSON(w))
}
