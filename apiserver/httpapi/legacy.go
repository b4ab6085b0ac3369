package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/shared/worker"
)

// MaxMetadataBytes bounds a config's metadatas JSON.
const MaxMetadataBytes = 64 << 10

// legacyConfig is a consumer config in the original service's JSON: topics
// as comma-separated strings, fields in the original's order, metadatas
// left out when NULL as in the original's example responses.
type legacyConfig struct {
	ID                   int64           `json:"id"`
	ConsumerName         string          `json:"consumer_name"`
	TopicsInput          string          `json:"topics_input"`
	TopicsOutput         string          `json:"topics_output"`
	KafkaBootstrapServer string          `json:"kafka_bootstrap_server"`
	Metadatas            json.RawMessage `json:"metadatas,omitempty"`
}

func toLegacy(c apiserver.ConsumerConfig) legacyConfig {
	return legacyConfig{c.ID, c.ConsumerName, strings.Join(c.TopicsInput, ","), strings.Join(c.TopicsOutput, ","),
		c.KafkaBootstrapServer, c.Metadatas}
}

// legacyInput is one config as a client sends it. id is accepted (scripts
// post back what they read) and ignored: POST matches by consumer_name, PUT
// by the URL. Topics may be a comma-separated string or a list.
type legacyInput struct {
	ID                   json.RawMessage `json:"id"`
	ConsumerName         *string         `json:"consumer_name"`
	TopicsInput          json.RawMessage `json:"topics_input"`
	TopicsOutput         json.RawMessage `json:"topics_output"`
	KafkaBootstrapServer *string         `json:"kafka_bootstrap_server"`
	Metadatas            json.RawMessage `json:"metadatas"`
}

// parse validates in with the workers' own rules (worker.Config.Validate)
// and returns the config to store. prefix is prepended to field names.
func (in legacyInput) parse(prefix string) (apiserver.ConsumerConfig, error) {
	var c apiserver.ConsumerConfig
	if in.ConsumerName == nil {
		return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"consumer_name", "is required")
	}
	c.ConsumerName = strings.TrimSpace(*in.ConsumerName)
	var err error
	if c.TopicsInput, err = parseTopics(in.TopicsInput, true); err != nil {
		return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"topics_input", "%v", err)
	}
	if c.TopicsOutput, err = parseTopics(in.TopicsOutput, false); err != nil {
		return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"topics_output", "%v", err)
	}
	if in.KafkaBootstrapServer == nil {
		return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"kafka_bootstrap_server", "is required")
	}
	c.KafkaBootstrapServer = strings.TrimSpace(*in.KafkaBootstrapServer)
	for _, b := range worker.SplitList(c.KafkaBootstrapServer) {
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"kafka_bootstrap_server", "%q is not host:port", b)
		}
	}
	if len(in.Metadatas) > MaxMetadataBytes {
		return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+"metadatas", "exceeds %d bytes", MaxMetadataBytes)
	}
	if len(in.Metadatas) > 0 && string(in.Metadatas) != "null" {
		c.Metadatas = in.Metadatas
	}
	wc := worker.Config{
		ConsumerName: c.ConsumerName,
		TopicsInput:  c.TopicsInput,
		TopicsOutput: c.TopicsOutput,
		Brokers:      worker.SplitList(c.KafkaBootstrapServer),
		Metadata:     c.Metadatas,
		// Validate insists on Redis for joins; the runtime supplies it, so
		// it is not the client's fault here.
		RedisAddr: "set-by-runtime",
		Timeout:   worker.DefaultTimeout,
	}
	if err := wc.Validate(); err != nil {
		if fe, ok := errors.AsType[*worker.FieldError](err); ok {
			return c, apiserver.FieldErrorf(apiserver.CodeInvalid, prefix+fe.Field, "%s", fe.Reason)
		}
		return c, apiserver.Errorf(apiserver.CodeInvalid, "%v", err)
	}
	return c, nil
}

// parseTopics accepts "a,b" or ["a","b"]; absent or "" is no topic.
func parseTopics(raw json.RawMessage, required bool) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return nil, errors.New("is required")
		}
		return []string{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return nonNil(worker.SplitList(s)), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("must be a comma-separated string or a list of strings")
	}
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	return nonNil(list), nil
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiserver.FieldErrorf(apiserver.CodeBadRequest, "id", "must be a positive integer")
	}
	return id, nil
}

func (s *Server) listConsumerConfigs(c *gin.Context) {
	cfgs, err := s.db.ListConsumerConfigs(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]legacyConfig, len(cfgs))
	for i, cc := range cfgs {
		out[i] = toLegacy(cc)
	}
	writeLegacyJSON(c, http.StatusOK, out)
}

func (s *Server) getConsumerConfig(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cc, err := s.db.ConsumerConfig(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeLegacyJSON(c, http.StatusOK, toLegacy(cc))
}

// upsertConsumerConfigs takes a list and creates or updates each item by
// consumer_name, all or nothing. It answers 200 with the stored items.
func (s *Server) upsertConsumerConfigs(c *gin.Context) {
	var in []legacyInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	items := make([]apiserver.ConsumerConfig, len(in))
	seen := map[string]int{}
	for i, it := range in {
		cc, err := it.parse(fmt.Sprintf("[%d].", i))
		if err != nil {
			s.fail(c, err)
			return
		}
		if j, dup := seen[cc.ConsumerName]; dup {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeInvalid, fmt.Sprintf("[%d].consumer_name", i), "repeats item %d", j))
			return
		}
		seen[cc.ConsumerName] = i
		items[i] = cc
	}
	saved, err := s.db.UpsertConsumerConfigs(c.Request.Context(), items, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]legacyConfig, len(saved))
	for i, cc := range saved {
		out[i] = toLegacy(cc)
	}
	writeLegacyJSON(c, http.StatusOK, out)
}

func (s *Server) putConsumerConfig(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in legacyInput
	if err := s.decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cc, err := in.parse("")
	if err != nil {
		s.fail(c, err)
		return
	}
	saved, err := s.db.UpdateConsumerConfig(c.Request.Context(), id, cc, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	writeLegacyJSON(c, http.StatusOK, toLegacy(saved))
}

func (s *Server) deleteConsumerConfig(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.db.DeleteConsumerConfig(c.Request.Context(), id, actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
