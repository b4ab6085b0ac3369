package apiserver

import (
	"encoding/json"
	"time"
)

// Pipeline is the editor's graph of workers and topics. Its workers are
// rows of consumer_configs whose PipelineID is the pipeline's; Graph keeps
// the JSON the editor saved, with node positions and layout.
type Pipeline struct {
	ID        int64
	Name      string
	Version   int // counts saves; a save naming an older one is a conflict
	Graph     json.RawMessage
	Workers   int // how many workers it has (in lists)
	CreatedAt time.Time
	UpdatedAt time.Time
}
