package apiserver

import (
	"encoding/json"
	"time"
)

// Function is one uploaded version of a function binary. The file is kept
// in the artifact directory under its SHA256; versions are immutable.
type Function struct {
	Name      string
	Version   string
	SHA256    string // hex
	SizeBytes int64
	CreatedAt time.Time
	// UploadedBy is the email of the user who uploaded it; "" when not
	// known (uploaded before users were recorded, or the user is gone).
	UploadedBy string
	// MetadataSchema is the JSON Schema of its workers' metadata, from the
	// upload's -describe output; nil when it declared none.
	MetadataSchema json.RawMessage
	// Kind is what the artifact is: FunctionGo, FunctionPython or
	// FunctionPythonArchive.
	Kind string
}

// The kinds of function artifact. A Python one is run by the newest version
// of the function PythonRuntime (the functions/python binary).
const (
	FunctionGo            = "go"             // a Linux executable
	FunctionPython        = "python"         // one .py module
	FunctionPythonArchive = "python-archive" // a .tar.gz with main.py and its .py files
	PythonRuntime         = "python"         // the function whose newest version runs Python ones
)

// IsPython reports whether f runs on the Python runtime.
func (f Function) IsPython() bool { return f.Kind == FunctionPython || f.Kind == FunctionPythonArchive }
