package httpapi

import (
	"encoding/json"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/deadletter"
)

// The OpenAPI 3 document is built from routeDocs (openapi_routes.go): one
// entry per route, naming the Go types the handler decodes and encodes, so
// that schemas come from the code itself. A test checks that every route
// Gin serves has an entry and every entry is served.

// Access levels of a route, for the document and the authorization tests.
const (
	accessPublic   = "public"   // no token
	accessRegister = "register" // none for the first user, then admin
	accessViewer   = "viewer"
	accessEditor   = "editor"
	accessAdmin    = "admin"
	accessLegacyR  = "legacy-viewer" // viewer, or anonymous when TRIBUTARY_LEGACY_ANONYMOUS
	accessLegacyW  = "legacy-editor" // editor, or anonymous when TRIBUTARY_LEGACY_ANONYMOUS
	// accessAlertmanager is the bearer token of TRIBUTARY_ALERTMANAGER_TOKEN,
	// not a user's.
	accessAlertmanager = "alertmanager"
)

// routeDoc documents one route.
type routeDoc struct {
	Method, Path string // Gin's syntax: /api/v1/workers/:id
	Access       string // one of the access levels above
	Tag, Summary string
	Request      any // zero value of the JSON body type; nil for none
	RequestType  string
	Response     any // zero value of the success body type; nil for none
	Status       int // success status
	Query        []queryParam
}

type queryParam struct{ Name, Type, Help string }

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// openAPIPath turns /workers/:id into /workers/{id}.
func openAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

// openAPI builds the document.
func openAPI(routes []routeDoc) map[string]any {
	sc := schemas{defs: map[string]any{}, types: map[string]reflect.Type{}}
	paths := map[string]map[string]any{}
	for _, rd := range routes {
		p := openAPIPath(rd.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rd.Method)] = sc.operation(rd)
	}
	sc.of(reflect.TypeFor[errorBody]()) // the "Error" every route's default response names
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Tributary API", "version": "1",
			"description": "Workers, functions, pipelines, deploys, monitoring and traces of Tributary. " +
				"Send `Authorization: Bearer <access_token>` from POST /api/v1/auth/login. " +
				"Every error is {\"error\":{\"code\",\"message\",\"field\"}}; x-tributary-access names the role a route needs."},
		"paths": paths,
		"components": map[string]any{
			"schemas": sc.defs,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"alertmanager": map[string]any{"type": "http", "scheme": "bearer", "description": "TRIBUTARY_ALERTMANAGER_TOKEN"}},
		},
	}
}

func (sc schemas) operation(rd routeDoc) map[string]any {
	op := map[string]any{"summary": rd.Summary, "tags": []string{rd.Tag}, "x-tributary-access": rd.Access,
		"operationId": strings.ToLower(rd.Method) + strings.NewReplacer("/", "_", ":", "", "{", "", "}", "", "-", "_").Replace(strings.TrimPrefix(rd.Path, "/api"))}
	switch rd.Access {
	case accessPublic:
	case accessAlertmanager:
		op["security"] = []map[string][]string{{"alertmanager": {}}}
	default:
		op["security"] = []map[string][]string{{"bearer": {}}}
	}
	var params []map[string]any
	for _, m := range ginParam.FindAllStringSubmatch(rd.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range rd.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Help, "schema": map[string]any{"type": q.Type}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if rd.Request != nil {
		ct := rd.RequestType
		if ct == "" {
			ct = "application/json"
		}
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{ct: map[string]any{"schema": sc.of(reflect.TypeOf(rd.Request))}}}
	}
	ok := map[string]any{"description": http.StatusText(rd.Status)}
	if rd.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": sc.of(reflect.TypeOf(rd.Response))}}
	}
	errRef := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/" + componentName(reflect.TypeFor[errorBody]())}}}}
	op["responses"] = map[string]any{strconv.Itoa(rd.Status): ok, "default": errRef}
	return op
}

// schemas turns Go types into JSON schemas; named struct types become
// components referenced by $ref.
type schemas struct {
	defs  map[string]any
	types map[string]reflect.Type // of each component, so two types never share a name
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func (sc schemas) of(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := sc.of(t.Elem())
		if _, isRef := s["$ref"]; isRef { // OpenAPI 3.0 ignores siblings of $ref
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		if values, ok := enums[t]; ok {
			return map[string]any{"type": "string", "enum": values}
		}
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "binary"}
		}
		arr := map[string]any{"type": "array", "items": sc.of(t.Elem())}
		if t.Kind() == reflect.Array { // a tuple, such as series.Point's [time, value]
			arr["minItems"], arr["maxItems"] = t.Len(), t.Len()
		}
		return arr
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": sc.of(t.Elem())}
	case reflect.Interface:
		return map[string]any{"description": "any JSON value"}
	case reflect.Struct:
		return sc.object(t)
	}
	return map[string]any{}
}

func (sc schemas) object(t reflect.Type) map[string]any {
	name := t.Name()
	if name != "" {
		name = componentName(t)
		if other, ok := sc.types[name]; ok && other != t {
			panic("schema name " + name + " is both " + other.String() + " and " + t.String() + ": add one to schemaNames")
		}
		if _, ok := sc.defs[name]; ok {
			return map[string]any{"$ref": "#/components/schemas/" + name}
		}
		sc.types[name] = t
		sc.defs[name] = map[string]any{} // placeholder: breaks recursion
	}
	props := map[string]any{}
	var required []string
	for _, f := range reflect.VisibleFields(t) { // embedded structs' fields inlined, as encoding/json does
		if !f.IsExported() || f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		jname, opts, _ := strings.Cut(tag, ",")
		if jname == "" {
			jname = f.Name
		}
		ft := f.Type
		if o, ok := fieldTypes[t][jname]; ok {
			ft = o
		}
		prop := sc.of(ft)
		if values, ok := fieldEnums[t][jname]; ok {
			prop["enum"] = values
		}
		props[jname] = prop
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			required = append(required, jname)
		}
	}
	sort.Strings(required)
	obj := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		obj["required"] = required
	}
	if name == "" {
		return obj
	}
	sc.defs[name] = obj
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// componentName is a type's name as a schema, unique in the document and
// usable as a TypeScript name (frontend/src/api/schema.d.ts is generated
// from it): schemaNames when listed there; for this package's types the
// Go name without its JSON suffix, capitalised (clusterJSON → Cluster,
// clusterInput → ClusterInput); for another package's, its name after the
// package's prefix (kafkaadmin.Topic → KafkaTopic, series.Result →
// SeriesResult), which is not repeated (events.Event → Event,
// deadletter.Letter → DeadLetter).
func componentName(t reflect.Type) string {
	if n, ok := schemaNames[t]; ok {
		return n
	}
	n := strings.TrimSuffix(t.Name(), "JSON")
	n = strings.ToUpper(n[:1]) + n[1:]
	if t.PkgPath() == reflect.TypeFor[routeDoc]().PkgPath() {
		return n
	}
	pkg := path.Base(t.PkgPath())
	prefix, ok := packagePrefix[pkg]
	if !ok {
		prefix = strings.ToUpper(pkg[:1]) + pkg[1:]
	}
	switch {
	case strings.HasPrefix(n, prefix):
		return n
	case strings.HasSuffix(prefix, n):
		return prefix
	}
	return prefix + n
}

// packagePrefix is what other packages' schema names start with, where the
// package's own name would read badly.
var packagePrefix = map[string]string{
	"kafkaadmin": "Kafka",
	"deadletter": "DeadLetter",
	"alerting":   "Alert",
	"jaeger":     "Trace",
	"monitor":    "Worker",
	"events":     "Event",
}

// schemaNames names this package's types whose Go names say too little in
// a document of the whole API.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[errorBody]():      "Error",
	reflect.TypeFor[statusJSON]():     "WorkerStatus",
	reflect.TypeFor[metricsJSON]():    "WorkerMetrics",
	reflect.TypeFor[versionJSON]():    "WorkerVersion",
	reflect.TypeFor[lagJSON]():        "WorkerLag",
	reflect.TypeFor[partLagJSON]():    "PartitionLag",
	reflect.TypeFor[instancesJSON]():  "WorkerInstanceCounts",
	reflect.TypeFor[deployJSON]():     "DeployResult",
	reflect.TypeFor[jobJSON]():        "NomadJob",
	reflect.TypeFor[deploymentJSON](): "NomadDeployment",
	reflect.TypeFor[functionJSON]():   "FunctionVersion",
}

// fieldTypes describes fields that the handlers keep as raw JSON, to
// check it themselves, by the type the check decodes them into.
var fieldTypes = map[reflect.Type]map[string]reflect.Type{
	reflect.TypeFor[pipelineJSON]():  {"graph": reflect.TypeFor[graphJSON]()},
	reflect.TypeFor[pipelineInput](): {"graph": reflect.TypeFor[graphJSON]()},
}

// fieldEnums lists the values of plain string fields that have only a few.
var fieldEnums = map[reflect.Type]map[string][]string{
	reflect.TypeFor[workerJSON]():         {"desired_state": {apiserver.DesiredRunning, apiserver.DesiredStopped}},
	reflect.TypeFor[workerOverviewJSON](): {"desired_state": {apiserver.DesiredRunning, apiserver.DesiredStopped}},
	reflect.TypeFor[logsJSON]():           {"stream": {streamStdout, streamStderr}},
	reflect.TypeFor[deadletter.Letter]():  {"encoding": {deadletter.EncodingUTF8, deadletter.EncodingBase64}},
	reflect.TypeFor[functionJSON]():       {"kind": {apiserver.FunctionGo, apiserver.FunctionPython, apiserver.FunctionPythonArchive}},
}

// enums lists the values of string types that have only a few.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[apiserver.Role](): {string(apiserver.RoleViewer), string(apiserver.RoleEditor), string(apiserver.RoleAdmin)},
}

// docsMissing answers /docs on a server without the built UI, which
// carries the docs page.
const docsMissing = `<!doctype html><meta charset="utf-8"><title>Tributary API</title>
<p>The interactive API docs (Swagger UI) are part of the built UI, which this server was not given (TRIBUTARY_UI_DIR).
The OpenAPI document is <a href="/openapi.json">/openapi.json</a>.</p>`

// mountDocs serves the document at /openapi.json and Swagger UI at /docs:
// the UI's build has it as docs.html (frontend/docs.html, bundled from
// swagger-ui-dist), read on each request so a rebuilt UI is served at once.
func (s *Server) mountDocs(r *gin.Engine) {
	doc, err := json.Marshal(openAPI(routeDocs))
	if err != nil {
		panic(err) // a type in routeDocs that cannot be described: a programming error
	}
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", doc) })
	r.GET("/docs", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		if s.cfg.UIDir != "" {
			page := filepath.Join(s.cfg.UIDir, "docs.html")
			if st, err := os.Stat(page); err == nil && !st.IsDir() {
				c.File(page)
				return
			}
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsMissing))
	})
}
