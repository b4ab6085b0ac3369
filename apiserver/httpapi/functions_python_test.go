package httpapi

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/kafkaadmin"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

const pyProcess = "def process(message, consumer_name, metadatas):\n    return message\n"

// fnUploadFile is fnUpload with the file part's file name.
func (e *env) fnUploadFile(token, name, version, filename string, file []byte) resp {
	e.t.Helper()
	return e.fnUploadForm(token, name, version, filename, file, "")
}

// tarMember is one entry of a test archive.
type tarMember struct {
	name, body string
	kind       byte // tar.TypeReg when 0
}

func tarGz(t *testing.T, members ...tarMember) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Typeflag: m.kind, Mode: 0o644, Size: int64(len(m.body))}
		switch m.kind {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeDir:
			h.Mode, h.Size = 0o755, 0
		case tar.TypeSymlink:
			h.Linkname, h.Size = m.body, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// TestPythonUploadAccepted: a .py module and a .tar.gz package are stored
// with their kind, and served back byte for byte; a binary stays "go".
func TestPythonUploadAccepted(t *testing.T) {
	e := fnEnv(t)
	editor := e.tokens[apiserver.RoleEditor]
	archive := tarGz(t, tarMember{name: "./", kind: tar.TypeDir}, tarMember{name: "./main.py", body: "import helpers\n\n" + pyProcess},
		tarMember{name: "./helpers/", kind: tar.TypeDir}, tarMember{name: "./helpers/__init__.py", body: "X = 1\n"})
	for _, tc := range []struct {
		name, filename string
		file           []byte
		kind           string
	}{
		{"shout", "shout.py", []byte("import re\n\n" + pyProcess), apiserver.FunctionPython},
		{"package", "package.tar.gz", archive, apiserver.FunctionPythonArchive},
		{"binary", "binary", fnTestBinary(t), apiserver.FunctionGo},
	} {
		var f functionJSON
		e.fnUploadFile(editor, tc.name, "1.0.0", tc.filename, tc.file).want(http.StatusCreated).decode(&f)
		if f.Kind != tc.kind {
			t.Errorf("%s: kind %q, want %q", tc.filename, f.Kind, tc.kind)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/artifacts/"+tc.name+"/1.0.0", nil))
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), tc.file) {
			t.Errorf("%s: artifact download %d, %d bytes; want 200 and the %d uploaded", tc.filename, rec.Code, rec.Body.Len(), len(tc.file))
		}
	}
	var list []functionJSON
	e.do("GET", "/api/v1/functions/shout", editor, "").want(http.StatusOK).decode(&list)
	if len(list) != 1 || list[0].Kind != apiserver.FunctionPython {
		t.Errorf("listed %+v, want shout of kind python", list)
	}
}

// TestPythonMetadataCheckedAgainstDescribe: a Python function uploaded
// with a describe field (functions/keywords' describe.json, as the demo
// uploads it) makes worker save refuse metadata outside its schema, with
// a 422 naming the field, as for a Go function.
func TestPythonMetadataCheckedAgainstDescribe(t *testing.T) {
	e := fnEnv(t)
	editor := e.tokens[apiserver.RoleEditor]
	e.do("POST", "/api/v1/clusters", editor, `{"name":"local","bootstrap_servers":["127.0.0.1:9092"]}`).want(http.StatusCreated)
	module, err := os.ReadFile("../../functions/keywords/main.py")
	if err != nil {
		t.Fatal(err)
	}
	describe, err := os.ReadFile("../../functions/keywords/describe.json")
	if err != nil {
		t.Fatal(err)
	}
	var f functionJSON
	e.fnUploadForm(editor, "keywords", "1.0.0", "main.py", module, string(describe)).want(http.StatusCreated).decode(&f)
	if f.Kind != apiserver.FunctionPython || len(f.MetadataSchema) == 0 {
		t.Fatalf("uploaded %+v, want a python function with a metadata schema", f)
	}
	worker := func(name, meta string) string {
		return fmt.Sprintf(`{"name":%q,"input_topics":["a"],"cluster_id":1,"function":"keywords","function_version":"1.0.0","metadata":%s}`, name, meta)
	}
	for meta, field := range map[string]string{
		`{"max_keywords":0}`:   "metadata.max_keywords",
		`{"max_keywords":101}`: "metadata.max_keywords",
		`{"max_keywords":"5"}`: "metadata.max_keywords",
		`{"max_keyword":5}`:    "metadata.max_keyword",
	} {
		if d := e.do("POST", "/api/v1/workers", editor, worker("e2e-kw-bad", meta)).want(422).errorOf(); d.Field != field {
			t.Errorf("metadata %s refused on %q (%s), want %q", meta, d.Field, d.Message, field)
		}
	}
	e.wkCreate(worker("e2e-kw-good", `{"max_keywords":7}`))
	e.wkCreate(worker("e2e-kw-default", `{}`))
}

// TestPythonUploadRefusesBadCode: each bad .py or .tar.gz is a 4xx naming
// the file field with the reason, and leaves nothing stored.
func TestPythonUploadRefusesBadCode(t *testing.T) {
	e := fnEnv(t, func(c *config.Config) { c.MaxUploadBytes = 64 << 10 })
	main := tarMember{name: "main.py", body: pyProcess}
	cases := []struct {
		name, filename string
		file           []byte
		code           int
		reason         string
	}{
		{"no process", "m.py", []byte("def handle(message):\n    return message\n"), 422, "no top-level `def process("},
		{"process inside a class", "m.py", []byte("class A:\n    def process(self, m, c, md):\n        pass\n"), 422, "no top-level"},
		{"not UTF-8", "m.py", append([]byte(pyProcess), 0xff, 0xfe), 422, "not UTF-8"},
		{"not gzip", "m.tar.gz", []byte("\x1f\x8bnot really gzip"), 422, "bad .tar.gz"},
		{"gzip, not tar", "m.tar.gz", func() []byte {
			var b bytes.Buffer
			gz := gzip.NewWriter(&b)
			gz.Write(bytes.Repeat([]byte("x"), 700))
			gz.Close()
			return b.Bytes()
		}(), 422, "bad .tar.gz"},
		{"absolute path", "m.tar.gz", tarGz(t, main, tarMember{name: "/etc/evil.py", body: "x = 1\n"}), 422, "outside the archive"},
		{"climbing out", "m.tar.gz", tarGz(t, main, tarMember{name: "lib/../../evil.py", body: "x = 1\n"}), 422, "outside the archive"},
		{"not a .py member", "m.tar.gz", tarGz(t, main, tarMember{name: "lib/native.so", body: "\x7fELF"}), 422, `"lib/native.so" is not a .py file`},
		{"a symlink", "m.tar.gz", tarGz(t, main, tarMember{name: "link.py", body: "/etc/passwd", kind: tar.TypeSymlink}), 422, "not a regular file"},
		{"no main.py", "m.tar.gz", tarGz(t, tarMember{name: "lib/main.py", body: pyProcess}), 422, "no main.py at its root"},
		{"main.py without process", "m.tar.gz", tarGz(t, tarMember{name: "main.py", body: "x = 1\n"}), 422, "main.py has no top-level"},
		{"unpacks too large", "m.tar.gz", tarGz(t, main, tarMember{name: "big.py", body: strings.Repeat("#", 65<<10)}), 413, "unpacks to more than"},
		{"neither binary nor Python", "notes.txt", []byte("def process(m, c, md): pass\n"), 422, "a .py module or a .tar.gz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.fnUploadFile(e.tokens[apiserver.RoleEditor], "py", "1.0.0", tc.filename, tc.file).want(tc.code).errorOf()
			if got.Field != "file" || !strings.Contains(got.Message, tc.reason) {
				t.Errorf("field %q, message %q; want field file and a message with %q", got.Field, got.Message, tc.reason)
			}
			if n := e.count("functions"); n != 0 {
				t.Errorf("%d function rows after a refused upload", n)
			}
			if files := e.fnStored(); len(files) != 0 {
				t.Errorf("stored files %v after a refused upload", files)
			}
		})
	}
}

// pyRuntimeBinary builds functions/python, the runtime of Python
// functions, once per test process.
var pyRuntimeBinary = buildOnce("../..", "./functions/python")

// TestPythonFunctionEndToEnd follows a Python author's path through the
// API against the stack: upload the python runtime and a .py module and a
// .tar.gz package, create a worker for each, deploy them on Nomad (which
// downloads runtime and code with their checksums), send messages, and
// read every one transformed from each worker's output topic.
func TestPythonFunctionEndToEnd(t *testing.T) {
	e, client := dpEnv(t)
	editor := e.tokens[apiserver.RoleEditor]
	runtime, err := pyRuntimeBinary()
	if err != nil {
		t.Fatal(err)
	}
	module := []byte(`def process(message, consumer_name, metadatas):
    message["content"]["title"] = message["content"]["text"].upper()
    message["content"]["by"] = consumer_name
    return message
`)
	archive := tarGz(t, tarMember{name: "main.py", body: "from shout import shout\n\n" +
		"def process(message, consumer_name, metadatas):\n    message[\"content\"][\"title\"] = shout(message[\"content\"][\"text\"])\n    return message\n"},
		tarMember{name: "shout.py", body: "def shout(s):\n    return s.upper() + '!'\n"})

	// A Python worker is refused at deploy until the runtime is uploaded.
	e.fnUploadFile(editor, "e2e-shout", "1.0.0", "shout.py", module).want(http.StatusCreated)
	in := stacktest.Name(t, "e2e-py-in")
	kc, err := kafkaadmin.Dial(stacktest.Kafka(t))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	workers := map[string]struct {
		fn, out, title string
		id             int64
	}{}
	for _, w := range []struct{ fn, file, filename, title string }{
		{"e2e-shout", "", "", "N %d"},
		{"e2e-shout-pkg", string(archive), "shout.tar.gz", "N %d!"},
	} {
		if w.file != "" {
			e.fnUploadFile(editor, w.fn, "1.0.0", w.filename, []byte(w.file)).want(http.StatusCreated)
		}
		name, out := stacktest.Name(t, w.fn), stacktest.Name(t, w.fn+"-out")
		opsCleanup(t, client, name, in, out, name+".dlq")
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		topics := []string{out, name + ".dlq"}
		if len(workers) == 0 {
			topics = append(topics, in)
		}
		for _, topic := range topics {
			if err := kc.CreateTopic(ctx, topic, 3, 1); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		created := e.wkCreate(fmt.Sprintf(`{"name":%q,"input_topics":[%q],"output_topics":[%q],"cluster_id":1,"function":%q,"function_version":"1.0.0"}`,
			name, in, out, w.fn))
		workers[name] = struct {
			fn, out, title string
			id             int64
		}{w.fn, out, w.title, created.ID}
		if len(workers) == 1 {
			got := e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", created.ID), editor, "").want(http.StatusUnprocessableEntity).errorOf()
			if got.Field != "function" || !strings.Contains(got.Message, "python runtime") {
				t.Errorf("deploy without a runtime: field %q, message %q", got.Field, got.Message)
			}
			e.fnUpload(editor, apiserver.PythonRuntime, "1.0.0", runtime).want(http.StatusCreated)
		}
	}
	for _, w := range workers {
		e.do("POST", fmt.Sprintf("/api/v1/workers/%d/deploy", w.id), editor, "").want(http.StatusAccepted)
	}
	for name, w := range workers {
		st := e.dpWaitStatus(w.id, 3*time.Minute, dpHealthy)
		t.Logf("%s healthy: %d/%d allocations", name, st.Healthy, st.Desired)
	}
	ids := stacktest.IDs(50)
	opsProduce(t, in, ids, func(int) bool { return false }) // content.text "n <i>"
	for name, w := range workers {
		got := pyReadValues(t, w.out, len(ids), 2*time.Minute)
		for i, id := range ids {
			if want := fmt.Sprintf(w.title, i); !strings.Contains(got[id], `"title":"`+want+`"`) {
				t.Errorf("%s: output of %s is %q, want title %q (%d of %d ids out)", name, id, got[id], want, len(got), len(ids))
				break
			}
		}
	}
}

// pyReadValues reads topic from its start until it has n distinct keys or
// timeout passes, and returns the last value of each key.
func pyReadValues(t *testing.T, topic string, n int, timeout time.Duration) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: stacktest.Kafka(t), GroupID: stacktest.Name(t, topic+"-read"),
		GroupTopics: []string{topic}, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	got := map[string]string{}
	for len(got) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Logf("reading %s: %v after %d of %d keys", topic, err, len(got), n)
			break
		}
		got[string(m.Key)] = string(m.Value)
	}
	return got
}
