package apiserver

import (
	"encoding/json"
	"fmt"
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

// StaleVersionError is the cause (Error.Err) of the conflict a pipeline save
// gets when it started from an older version than the stored one, so that
// the HTTP adapter can tell the editor which version to reload.
type StaleVersionError struct {
	Current int // the stored version
}

func (e *StaleVersionError) Error() string {
	return fmt.Sprintf("the pipeline is at version %d", e.Current)
}
