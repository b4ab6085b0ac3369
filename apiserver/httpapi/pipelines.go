package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/worker"
)

// Bounds on a pipeline graph.
const (
	MaxGraphWorkers = 500
	MaxGraphTopics  = 1000
	MaxNodeIDBytes  = 64
)

var pipelineName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`)

// graphJSON is the editor's pipeline: the original visualizer's
// {workers:[{id,name,input_topics,output_topics}], topics:[{id,name}]}
// plus node positions, layout, and optional worker settings.
type graphJSON struct {
	Workers   []graphWorker       `json:"workers"`
	Topics    []graphTopic        `json:"topics"`
	Positions map[string]position `json:"positions,omitempty"`
	Layout    map[string]any      `json:"layout,omitempty"`
}

type graphWorker struct {
	ID string `json:"id"`
	workerInput
	given map[string]bool // the keys the graph gave, for mysql.PipelineWorker.Given
}

type graphTopic struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// parseGraph decodes and checks a graph: unknown fields refused at every
// level, node ids unique, worker names unique, every topic a worker names
// listed in topics, and each worker's settings valid. defaultCluster is
// given to workers that name neither a cluster nor bootstrap servers (0:
// none is registered). It returns the workers to store. It does no I/O.
func parseGraph(raw []byte, defaultCluster int64) (graphJSON, []mysql.PipelineWorker, error) {
	g, err := decodeGraph(raw)
	if err != nil {
		return g, nil, err
	}
	if len(g.Workers) > MaxGraphWorkers || len(g.Topics) > MaxGraphTopics {
		return g, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, "graph", "at most %d workers and %d topics", MaxGraphWorkers, MaxGraphTopics)
	}
	ids := nodeIDs{}
	topics, err := graphTopics(g.Topics, ids)
	if err != nil {
		return g, nil, err
	}
	names := map[string]bool{}
	workers := make([]mysql.PipelineWorker, len(g.Workers))
	for i, gw := range g.Workers {
		f := fmt.Sprintf("graph.workers[%d]", i)
		if err := ids.add(f+".id", gw.ID); err != nil {
			return g, nil, err
		}
		if names[gw.Name] {
			return g, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, f+".name", "another worker of the graph is named %q", gw.Name)
		}
		names[gw.Name] = true
		if workers[i], err = graphWorkerConfig(gw, f, topics, defaultCluster); err != nil {
			return g, nil, err
		}
	}
	for id, p := range g.Positions {
		switch {
		case !ids[id]:
			return g, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, "graph.positions."+id, "names no node of the graph")
		case math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0):
			return g, nil, apiserver.FieldErrorf(apiserver.CodeInvalid, "graph.positions."+id, "must be finite numbers")
		}
	}
	return g, workers, nil
}

// nodeIDs are the ids of a graph's nodes, workers and topics alike.
type nodeIDs map[string]bool

func (ids nodeIDs) add(field, id string) error {
	switch {
	case id == "" || len(id) > MaxNodeIDBytes:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, field, "must be 1 to %d bytes", MaxNodeIDBytes)
	case ids[id]:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, field, "%q is the id of another node", id)
	}
	ids[id] = true
	return nil
}

// graphTopics checks the topic nodes and indexes them.
func graphTopics(nodes []graphTopic, ids nodeIDs) (topicIndex, error) {
	topics := topicIndex{byID: map[string]string{}, names: map[string]bool{}}
	for i, t := range nodes {
		f := fmt.Sprintf("graph.topics[%d]", i)
		if err := ids.add(f+".id", t.ID); err != nil {
			return topics, err
		}
		if r := worker.ValidTopic(t.Name); r != "" {
			return topics, apiserver.FieldErrorf(apiserver.CodeInvalid, f+".name", "topic %q %s", t.Name, r)
		}
		if topics.names[t.Name] {
			return topics, apiserver.FieldErrorf(apiserver.CodeInvalid, f+".name", "topic %q is listed twice", t.Name)
		}
		topics.byID[t.ID], topics.names[t.Name] = t.Name, true
	}
	return topics, nil
}

// graphWorkerConfig resolves a graph worker's topics and validates it as
// POST /api/v1/workers would; f is its path in the request.
func graphWorkerConfig(gw graphWorker, f string, topics topicIndex, defaultCluster int64) (mysql.PipelineWorker, error) {
	pw := mysql.PipelineWorker{Field: f, Given: gw.given}
	in := gw.workerInput
	var err error
	if in.InputTopics, err = resolveTopics(gw.InputTopics, topics, f+".input_topics"); err != nil {
		return pw, err
	}
	if in.OutputTopics, err = resolveTopics(gw.OutputTopics, topics, f+".output_topics"); err != nil {
		return pw, err
	}
	if in.ClusterID == nil && in.KafkaBootstrapServer == "" {
		delete(pw.Given, "cluster_id") // empty or null says nothing: a stored worker keeps its servers
		delete(pw.Given, "kafka_bootstrap_server")
		if defaultCluster != 0 {
			in.ClusterID = &defaultCluster
		} else { // never stored: a new worker is refused (see mysql.PipelineWorker)
			pw.NoCluster, in.KafkaBootstrapServer = true, "placeholder:9092"
		}
	}
	pw.Config, err = in.worker(f + ".")
	return pw, err
}

// decodeGraph decodes a graph strictly, node by node, so that an unknown
// field is reported with its full path ("graph.workers[1].colour").
func decodeGraph(raw []byte) (graphJSON, error) {
	var g graphJSON
	var nodes struct {
		Workers   []json.RawMessage   `json:"workers"`
		Topics    []json.RawMessage   `json:"topics"`
		Positions map[string]position `json:"positions,omitempty"`
		Layout    map[string]any      `json:"layout,omitempty"`
	}
	if err := strictJSON(raw, &nodes); err != nil {
		return g, prefixed(err, "graph")
	}
	g.Positions, g.Layout = nodes.Positions, nodes.Layout
	g.Workers = make([]graphWorker, len(nodes.Workers))
	for i, w := range nodes.Workers {
		if err := strictJSON(w, &g.Workers[i]); err != nil {
			return g, prefixed(err, fmt.Sprintf("graph.workers[%d]", i))
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(w, &keys) == nil { // strictJSON has seen an object or null
			g.Workers[i].given = map[string]bool{}
			for k := range keys {
				g.Workers[i].given[k] = true
			}
		}
	}
	g.Topics = make([]graphTopic, len(nodes.Topics))
	for i, t := range nodes.Topics {
		if err := strictJSON(t, &g.Topics[i]); err != nil {
			return g, prefixed(err, fmt.Sprintf("graph.topics[%d]", i))
		}
	}
	return g, nil
}

func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apiserver.Errorf(apiserver.CodeBadRequest, "holds more than one JSON value")
	}
	return nil
}

// topicIndex finds the graph's topics by node id and by name.
type topicIndex struct {
	byID  map[string]string // node id → topic name
	names map[string]bool
}

// resolveTopics maps a worker's topic references to topic names. A
// reference is a topic's name, or else a topic node's id (the original
// visualizer wrote ids); a name wins when both match.
func resolveTopics(refs []string, topics topicIndex, field string) ([]string, error) {
	out := make([]string, len(refs))
	for i, ref := range refs {
		name, ok := ref, topics.names[ref]
		if !ok {
			name, ok = topics.byID[ref]
		}
		if !ok {
			return nil, apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("%s[%d]", field, i),
				"%q is neither the id nor the name of a topic of the graph", ref)
		}
		out[i] = name
	}
	return out, nil
}

// prefixed puts prefix before the field of err (or makes it the field).
func prefixed(err error, prefix string) error {
	if e, ok := err.(*apiserver.Error); ok {
		if e.Field == "" {
			e.Field = prefix
		} else {
			e.Field = prefix + "." + e.Field
		}
	}
	return err
}

type pipelineJSON struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Version   int              `json:"version"`
	Graph     json.RawMessage  `json:"graph"`
	WorkerIDs map[string]int64 `json:"worker_ids"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

type pipelineSummary struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	Workers   int       `json:"workers"`
	UpdatedAt time.Time `json:"updated_at"`
	// Health is how many workers are deployed and healthy; null without
	// Nomad (or when it did not answer in time).
	Health *pipelineHealthJSON `json:"health"`
}

type pipelineInput struct {
	Name    string          `json:"name"`
	Graph   json.RawMessage `json:"graph"`
	Version *int            `json:"version,omitempty"`
}

func (s *Server) mountPipelines(v1 *gin.RouterGroup) {
	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.GET("/pipelines", viewer, s.listPipelines)
	v1.POST("/pipelines", editor, s.savePipeline)
	v1.GET("/pipelines/:id", viewer, s.getPipeline)
	v1.PUT("/pipelines/:id", editor, s.savePipeline)
	v1.DELETE("/pipelines/:id", editor, s.deletePipeline)
}

func (s *Server) listPipelines(c *gin.Context) {
	ps, err := s.db.Pipelines(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	health, err := s.pipelinesHealth(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]pipelineSummary, len(ps))
	for i, p := range ps {
		out[i] = pipelineSummary{p.ID, p.Name, p.Version, p.Workers, p.UpdatedAt.UTC(), nil}
		if health != nil {
			out[i].Health = health[p.ID]
			if out[i].Health == nil {
				out[i].Health = &pipelineHealthJSON{}
			}
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) pipelineID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no pipeline with that id"))
		return 0, false
	}
	return id, true
}

// pipelineResponse is the pipeline with its workers' ids.
func (s *Server) pipelineResponse(c *gin.Context, p apiserver.Pipeline) (pipelineJSON, error) {
	ws, err := s.db.Workers(c.Request.Context(), p.ID)
	ids := map[string]int64{}
	for _, w := range ws {
		ids[w.ConsumerName] = w.ID
	}
	return pipelineJSON{p.ID, p.Name, p.Version, p.Graph, ids, p.CreatedAt.UTC(), p.UpdatedAt.UTC()}, err
}

func (s *Server) getPipeline(c *gin.Context) {
	id, ok := s.pipelineID(c)
	if !ok {
		return
	}
	p, err := s.db.Pipeline(c.Request.Context(), id)
	var out pipelineJSON
	if err == nil {
		out, err = s.pipelineResponse(c, p)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// savePipeline creates (POST) or replaces (PUT) a pipeline and its workers.
func (s *Server) savePipeline(c *gin.Context) {
	ps := mysql.PipelineSave{}
	if c.Request.Method == http.MethodPut {
		var ok bool
		if ps.ID, ok = s.pipelineID(c); !ok {
			return
		}
	}
	var in pipelineInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if !pipelineName.MatchString(in.Name) {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "name", "must be 1 to 64 letters, digits, spaces and '.', '_', '-', starting with a letter or digit"))
		return
	}
	if len(in.Graph) == 0 || string(in.Graph) == "null" {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, "graph", "is required: {workers:[...], topics:[...]}"))
		return
	}
	cluster, err := s.db.DefaultClusterID(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	_, workers, err := parseGraph(in.Graph, cluster)
	if err != nil {
		s.fail(c, err)
		return
	}
	ps.Name, ps.Graph, ps.Version, ps.Workers = in.Name, in.Graph, in.Version, workers
	p, ids, err := s.db.SavePipeline(c.Request.Context(), ps, actor(c))
	if err != nil {
		s.failSave(c, err)
		return
	}
	s.notifyChanged() // workers removed from the graph have their jobs stopped
	status := http.StatusOK
	if ps.ID == 0 {
		status = http.StatusCreated
	}
	c.JSON(status, pipelineJSON{p.ID, p.Name, p.Version, p.Graph, ids, p.CreatedAt.UTC(), p.UpdatedAt.UTC()})
}

// staleDetail is the error of a stale save, with the stored version for
// the editor to reload.
type staleDetail struct {
	errorDetail
	CurrentVersion int `json:"current_version"`
}

// failSave is fail, plus "current_version" in the body of a stale save's
// conflict.
func (s *Server) failSave(c *gin.Context, err error) {
	e, ok := errors.AsType[*apiserver.Error](err)
	stale, isStale := errors.AsType[*apiserver.StaleVersionError](err)
	if !ok || !isStale {
		s.fail(c, err)
		return
	}
	c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": staleDetail{errorDetail{e.Code, e.Message, e.Field}, stale.Current}})
}

func (s *Server) deletePipeline(c *gin.Context) {
	id, ok := s.pipelineID(c)
	if !ok {
		return
	}
	if err := s.db.DeletePipeline(c.Request.Context(), id, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	s.notifyChanged()
	c.Status(http.StatusNoContent)
}
