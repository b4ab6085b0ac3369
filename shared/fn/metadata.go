package fn

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/tributary-etl/tributary/shared/worker"
)

// DecodeMetadata decodes raw (null: none) over a copy of defaults and
// validates it; an error is a *worker.FieldError naming the field.
func DecodeMetadata[Meta any](raw json.RawMessage, defaults Meta) (Meta, error) {
	meta := defaults
	if len(raw) > 0 && string(raw) != "null" {
		strict := reflect.TypeFor[Meta]().Kind() == reflect.Struct
		if err := decode(raw, &meta, strict); err != nil {
			return defaults, metadataError(err)
		}
	}
	if v, ok := any(&meta).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return defaults, err
		}
	}
	return meta, nil
}

// metadataError names the field a metadata decode error is about.
func metadataError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := "metadata"
		if te.Field != "" {
			field += "." + te.Field
		}
		return &worker.FieldError{Field: field, Reason: fmt.Sprintf("must be %s, not %s", jsonType(te.Type), te.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if s, uerr := strconv.Unquote(name); uerr == nil {
			name = s
		}
		return &worker.FieldError{Field: "metadata." + name, Reason: "is not a setting of this function"}
	}
	return &worker.FieldError{Field: "metadata", Reason: err.Error()}
}

// jsonType names a Go type as the JSON value it decodes from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// Schema is the JSON Schema of a metadata type, with defaults' fields as
// its properties' defaults, derived by invopop/jsonschema from the type and
// its json and jsonschema tags. A struct refuses unknown fields, as
// DecodeMetadata does; a field is required only when tagged
// jsonschema:"required", as the others have defaults.
func Schema[Meta any](defaults Meta) json.RawMessage {
	r := jsonschema.Reflector{DoNotReference: true, Anonymous: true, RequiredFromJSONSchemaTags: true}
	s := r.ReflectFromType(reflect.TypeFor[Meta]())
	s.Version = ""
	var dflt map[string]json.RawMessage
	if b, err := json.Marshal(defaults); err == nil && json.Unmarshal(b, &dflt) == nil && s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			if v, ok := dflt[p.Key]; ok {
				p.Value.Default = v
			}
		}
	}
	b, err := json.Marshal(s)
	if err != nil { // a type the reflector cannot describe: no schema, nothing checked at save
		return nil
	}
	return b
}
