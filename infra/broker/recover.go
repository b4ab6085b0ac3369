package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// kfake writes its topic list (topics.json) only when a cluster starts and
// when it closes cleanly, while records and committed offsets go to disk as
// they arrive. A broker killed with SIGKILL therefore comes back with its
// records and offsets on disk but without the topics created since it
// started. recoverTopics closes that gap before the cluster loads: every
// topic that has partition directories on disk but no entry in topics.json
// gets one, so its records are loaded again.
//
// It reads and writes kfake's own file format, version 1, of the pinned
// kfake version; for any other version it changes nothing and says so.

// topicsFile mirrors kfake's topics.json (persistTopics, version 1).
type topicsFile struct {
	Version int          `json:"version"`
	Topics  []topicEntry `json:"topics"`
}

type topicEntry struct {
	Name       string            `json:"name"`
	ID         []byte            `json:"id"` // base64, as kfake writes it
	Partitions int               `json:"partitions"`
	Replicas   int               `json:"replicas"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// recoverTopics returns the names of the topics it added.
func recoverTopics(dataDir string) ([]string, error) {
	path := filepath.Join(dataDir, "topics.json")
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil // a new data directory
	}
	if err != nil {
		return nil, err
	}
	var tf topicsFile
	if err := json.Unmarshal(raw, &tf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tf.Version != 1 {
		return nil, fmt.Errorf("%s: format version %d, recovery knows only version 1; nothing changed", path, tf.Version)
	}
	known := make(map[string]bool, len(tf.Topics))
	for _, t := range tf.Topics {
		known[t.Name] = true
	}

	entries, err := os.ReadDir(filepath.Join(dataDir, "partitions"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	found := map[string]int{} // topic -> partitions (highest index + 1)
	for _, e := range entries {
		topic, part, ok := parsePartitionDir(e.Name())
		if !ok || known[topic] {
			continue
		}
		if part+1 > found[topic] {
			found[topic] = part + 1
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	added := make([]string, 0, len(found))
	for topic, parts := range found {
		id := make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return nil, err
		}
		tf.Topics = append(tf.Topics, topicEntry{Name: topic, ID: id, Partitions: parts, Replicas: 1})
		added = append(added, topic)
	}
	sort.Strings(added)
	out, err := json.Marshal(tf)
	if err != nil {
		return nil, err
	}
	tmp := path + ".recover"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return nil, err
	}
	return added, os.Rename(tmp, path)
}

// parsePartitionDir splits kfake's "<path-escaped topic>-<partition>".
func parsePartitionDir(name string) (topic string, part int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	part, err := strconv.Atoi(name[i+1:])
	if err != nil || part < 0 {
		return "", 0, false
	}
	topic, err = url.PathUnescape(name[:i])
	if err != nil {
		return "", 0, false
	}
	return topic, part, true
}
