package httpapi

import (
	"bytes"
	"encoding/json"
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
// none is registered). It returns the workers to store and their fields.
func parseGraph(raw []byte, defaultCluster int64) (graphJSON, []apiserver.ConsumerConfig, []string, error) {
	g, err := decodeGraph(raw)
	if err != nil {
		return g, nil, nil, err
	}
	bad := func(field, format string, args ...any) error {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, field, format, args...)
	}
	if len(g.Workers) > MaxGraphWorkers || len(g.Topics) > MaxGraphTopics {
		return g, nil, nil, bad("graph", "at most %d workers and %d topics", MaxGraphWorkers, MaxGraphTopics)
	}
	ids := map[string]bool{}
	topics := topicIndex{byID: map[string]string{}, names: map[string]bool{}}
	checkID := func(field, id string) error {
		switch {
		case id == "" || len(id) > MaxNodeIDBytes:
			return bad(field, "must be 1 to %d bytes", MaxNodeIDBytes)
		case ids[id]:
			return bad(field, "%q is the id of another node", id)
		}
		ids[id] = true
		return nil
	}
	for i, t := range g.Topics {
		f := fmt.Sprintf("graph.topics[%d]", i)
		if err := checkID(f+".id", t.ID); err != nil {
			return g, nil, nil, err
		}
		if r := worker.ValidTopic(t.Name); r != "" {
			return g, nil, nil, bad(f+".name", "topic %q %s", t.Name, r)
		}
		if topics.names[t.Name] {
			return g, nil, nil, bad(f+".name", "topic %q is listed twice", t.Name)
		}
		topics.byID[t.ID], topics.names[t.Name] = t.Name, true
	}
	names := map[string]bool{}
	var workers []apiserver.ConsumerConfig
	var fields []string
	for i, gw := range g.Workers {
		f := fmt.Sprintf("graph.workers[%d]", i)
		if err := checkID(f+".id", gw.ID); err != nil {
			return g, nil, nil, err
		}
		if names[gw.Name] {
			return g, nil, nil, bad(f+".name", "another worker of the graph is named %q", gw.Name)
		}
		names[gw.Name] = true
		in := gw.workerInput
		if in.InputTopics, err = resolveTopics(gw.InputTopics, topics, f+".input_topics"); err != nil {
			return g, nil, nil, err
		}
		if in.OutputTopics, err = resolveTopics(gw.OutputTopics, topics, f+".output_topics"); err != nil {
			return g, nil, nil, err
		}
		if in.ClusterID == nil && in.KafkaBootstrapServer == "" {
			if defaultCluster == 0 {
				return g, nil, nil, bad(f+".cluster_id", "no Kafka cluster is registered: add one (POST /api/v1/clusters) or give kafka_bootstrap_server")
			}
			in.ClusterID = &defaultCluster
		}
		w, err := in.worker(f + ".")
		if err != nil {
			return g, nil, nil, err
		}
		if gw.Instances == nil {
			w.Instances = 0 // keep the stored count (see mysql.PipelineSave)
		}
		workers, fields = append(workers, w), append(fields, f)
	}
	for id, p := range g.Positions {
		if !ids[id] {
			return g, nil, nil, bad("graph.positions."+id, "names no node of the graph")
		}
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
			return g, nil, nil, bad("graph.positions."+id, "must be finite numbers")
		}
	}
	return g, workers, fields, nil
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

// resolveTopics maps a worker's topic references, each a topic node's id
// or its name (the original editor wrote ids), to topic names; an id wins
// over a name.
func resolveTopics(refs []string, topics topicIndex, field string) ([]string, error) {
	out := make([]string, len(refs))
	for i, ref := range refs {
		name, ok := topics.byID[ref]
		if !ok && topics.names[ref] {
			name, ok = ref, true
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
	out := make([]pipelineSummary, len(ps))
	for i, p := range ps {
		out[i] = pipelineSummary{p.ID, p.Name, p.Version, p.Workers, p.UpdatedAt.UTC()}
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
	_, workers, fields, err := parseGraph(in.Graph, cluster)
	if err != nil {
		s.fail(c, err)
		return
	}
	ps.Name, ps.Graph, ps.Version, ps.Workers, ps.Fields = in.Name, in.Graph, in.Version, workers, fields
	p, ids, err := s.db.SavePipeline(c.Request.Context(), ps, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.notifyChanged() // workers removed from the graph have their jobs stopped
	status := http.StatusOK
	if ps.ID == 0 {
		status = http.StatusCreated
	}
	c.JSON(status, pipelineJSON{p.ID, p.Name, p.Version, p.Graph, ids, p.CreatedAt.UTC(), p.UpdatedAt.UTC()})
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
