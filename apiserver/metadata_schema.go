package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// A function declares the JSON Schema of its workers' metadata in the
// -describe output its upload carries (see docs/configuration.md); the API
// server never runs an uploaded binary to learn it. The worker checks the
// same at start and exits 2 on a mismatch: this check gives the same answer
// at save time instead.

// describeJSON is the part of a function binary's -describe output read
// here.
type describeJSON struct {
	Function       string          `json:"function"`
	MetadataSchema json.RawMessage `json:"metadata_schema"`
}

// ParseDescribe reads a function binary's -describe output and returns its
// metadata schema (nil when it declares none), checked to compile. Errors
// name the field "describe".
func ParseDescribe(raw []byte) (json.RawMessage, error) {
	var d describeJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, FieldErrorf(CodeInvalid, "describe", "is not the JSON that -describe prints: %v", err)
	}
	if len(d.MetadataSchema) == 0 || string(d.MetadataSchema) == "null" {
		return nil, nil
	}
	if _, err := compileSchema(d.MetadataSchema); err != nil {
		return nil, FieldErrorf(CodeInvalid, "describe", "metadata_schema is not a valid JSON Schema: %v", err)
	}
	return d.MetadataSchema, nil
}

func compileSchema(schema json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("metadata.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("metadata.json")
}

var schemaPrinter = message.NewPrinter(language.English)

// CheckMetadata validates a worker's metadata against its function's
// schema. A refusal is CodeInvalid naming the field of the first error:
// "metadata" or "metadata.<path>".
func CheckMetadata(schema, metadata json.RawMessage) error {
	if len(schema) == 0 {
		return nil
	}
	sch, err := compileSchema(schema)
	if err != nil { // checked at upload; a row changed by hand
		return fmt.Errorf("the function's metadata schema: %w", err)
	}
	if len(metadata) == 0 {
		metadata = json.RawMessage("{}") // the worker decodes no metadata as its defaults
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(metadata))
	if err != nil {
		return FieldErrorf(CodeInvalid, "metadata", "is not valid JSON: %v", err)
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for len(ve.Causes) > 0 { // the deepest first cause is the one that names a field
		ve = ve.Causes[0]
	}
	path := append([]string{"metadata"}, ve.InstanceLocation...)
	if ap, ok := ve.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
		path = append(path, ap.Properties[0]) // the unknown field itself
	}
	field := strings.Join(path, ".")
	return FieldErrorf(CodeInvalid, field, "%s (the function's metadata schema)", ve.ErrorKind.LocalizedString(schemaPrinter))
}
