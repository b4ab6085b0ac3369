package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
)

// decode reads the body as one JSON value into dst: at most MaxBodyBytes
// (else CodeTooLarge), no unknown fields, nothing after the value. Every
// failure is CodeBadRequest naming the field when the decoder knows it.
func (s *Server) decode(c *gin.Context, dst any) error { return s.decodeBody(c, dst, true) }

// decodeLenient is decode that ignores unknown fields, for bodies another
// program defines (Alertmanager's webhook), which may grow fields.
func (s *Server) decodeLenient(c *gin.Context, dst any) error { return s.decodeBody(c, dst, false) }

func (s *Server) decodeBody(c *gin.Context, dst any, strict bool) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apiserver.Errorf(apiserver.CodeMediaType, "the body must be JSON (Content-Type: application/json), not %q", ct)
		}
	}
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		return tooLarge(s.cfg.MaxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(s.cfg.MaxBodyBytes)
	}
	if err != nil {
		return apiserver.Errorf(apiserver.CodeBadRequest, "could not read the body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return apiserver.Errorf(apiserver.CodeBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

func tooLarge(limit int64) error {
	return apiserver.Errorf(apiserver.CodeTooLarge, "the body exceeds %d bytes", limit)
}

func jsonError(err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		// encoding/json names an embedded struct's fields through the
		// struct's Go name ("workerSettings.timeout_seconds"); the client
		// knows only the JSON path.
		field := strings.NewReplacer("workerInput.", "", "workerSettings.", "").Replace(te.Field)
		if field == "" {
			return apiserver.Errorf(apiserver.CodeBadRequest, "the body must be a JSON %s", jsonKind(te.Type.Kind().String()))
		}
		return apiserver.FieldErrorf(apiserver.CodeBadRequest, field, "must be a JSON %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return apiserver.FieldErrorf(apiserver.CodeBadRequest, strings.Trim(f, `"`), "is not a known field")
	}
	if errors.Is(err, io.EOF) {
		return apiserver.Errorf(apiserver.CodeBadRequest, "the body is empty; a JSON value is required")
	}
	return apiserver.Errorf(apiserver.CodeBadRequest, "the body is not valid JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	case "int", "int64", "float64":
		return "number"
	}
	return goKind
}

// writeLegacyJSON writes v as the original Flask service did: compact,
// non-ASCII escaped as \uXXXX, '<', '>' and '&' left alone, a trailing
// newline.
func writeLegacyJSON(c *gin.Context, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/json", asciiJSON(buf.Bytes()))
}

// asciiJSON escapes every non-ASCII rune of encoded JSON as Python's
// ensure_ascii does (surrogate pairs above U+FFFF). Non-ASCII bytes occur
// only inside strings, so escaping them in place is safe.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	const hex = "0123456789abcdef"
	u := func(r rune) {
		out.WriteString(`\u`)
		out.WriteByte(hex[r>>12&0xf])
		out.WriteByte(hex[r>>8&0xf])
		out.WriteByte(hex[r>>4&0xf])
		out.WriteByte(hex[r&0xf])
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(b[0])
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + r>>10)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
		b = b[n:]
	}
	return out.Bytes()
}
