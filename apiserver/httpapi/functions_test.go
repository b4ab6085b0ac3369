package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
)

// fnEnv is a server whose artifacts live in a directory of the test's own.
func fnEnv(t *testing.T, mutate ...func(*config.Config)) (*env, string) {
	dir := t.TempDir()
	e := newEnv(t, append([]func(*config.Config){func(c *config.Config) { c.DataDir = dir }}, mutate...)...).withUsers()
	return e, filepath.Join(dir, "artifacts")
}

// fnUpload posts a multipart upload; fields with an empty value are left out.
func (e *env) fnUpload(token, name, version string, file []byte) resp {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if name != "" {
		w.WriteField("name", name)
	}
	if version != "" {
		w.WriteField("version", version)
	}
	if file != nil {
		fw, _ := w.CreateFormFile("file", "function")
		fw.Write(file)
	}
	w.Close()
	req := httptest.NewRequest("POST", "/api/v1/functions", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return resp{e.t, rec.Code, rec.Body.Bytes(), rec.Header()}
}

// testBinary is a real Linux executable: the test binary itself.
func testBinary(t *testing.T) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestFunctionUploadDownloadDelete(t *testing.T) {
	e, dir := fnEnv(t)
	bin := testBinary(t)
	sum := sha256.Sum256(bin)
	want := hex.EncodeToString(sum[:])

	var f functionJSON
	e.fnUpload(e.tokens[apiserver.RoleEditor], "wordcount", "1.0.0", bin).want(http.StatusCreated).decode(&f)
	if f.SHA256 != want || f.SizeBytes != int64(len(bin)) || f.ArtifactURL != e.cfg.PublicURL+"/artifacts/wordcount/1.0.0" {
		t.Fatalf("uploaded %+v, want sha %s size %d", f, want, len(bin))
	}
	// The same bytes as another version share one file.
	e.fnUpload(e.tokens[apiserver.RoleEditor], "wordcount", "1.0.1", bin).want(http.StatusCreated)
	if files := dirFiles(t, dir); len(files) != 1 || files[0] != want {
		t.Fatalf("artifact dir holds %v, want only %s", files, want)
	}

	// Download without a token, as Nomad does.
	r := e.do("GET", "/artifacts/wordcount/1.0.0", "", "").want(http.StatusOK)
	if !bytes.Equal(r.body, bin) || r.hdr.Get("ETag") != `"`+want+`"` || r.hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d bytes, ETag %q, type %q", len(r.body), r.hdr.Get("ETag"), r.hdr.Get("Content-Type"))
	}
	if h := e.do("HEAD", "/artifacts/wordcount/1.0.0", "", "").want(http.StatusOK); len(h.body) != 0 {
		t.Error("HEAD returned a body")
	}
	e.do("GET", "/artifacts/wordcount/9.9.9", "", "").want(http.StatusNotFound)

	var list []functionJSON
	e.do("GET", "/api/v1/functions", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	if len(list) != 2 || list[0].Version != "1.0.0" || list[1].Version != "1.0.1" {
		t.Fatalf("list = %+v", list)
	}
	e.do("GET", "/api/v1/functions/wordcount", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	e.do("GET", "/api/v1/functions/nothing", e.tokens[apiserver.RoleViewer], "").want(http.StatusNotFound)

	// Versions are immutable.
	if got := e.fnUpload(e.tokens[apiserver.RoleEditor], "wordcount", "1.0.0", bin).want(http.StatusConflict).errorOf(); got.Field != "version" {
		t.Errorf("duplicate upload field = %q", got.Field)
	}

	// A version a worker uses cannot be deleted.
	if _, err := e.sql.Exec(`INSERT INTO consumer_configs (consumer_name, topics_input, topics_output, kafka_bootstrap_server,
	  function_name, function_version) VALUES ('counter', '["a"]', '[]', '127.0.0.1:9092', 'wordcount', '1.0.0')`); err != nil {
		t.Fatal(err)
	}
	if got := e.do("DELETE", "/api/v1/functions/wordcount/1.0.0", e.tokens[apiserver.RoleEditor], "").want(http.StatusConflict).errorOf(); !strings.Contains(got.Message, "counter") {
		t.Errorf("delete in use: %q does not name the worker", got.Message)
	}
	// Deleting 1.0.1 keeps the file 1.0.0 shares; deleting both removes it.
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.1", e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	if len(dirFiles(t, dir)) != 1 {
		t.Fatal("a file still in use was removed")
	}
	e.sql.Exec("DELETE FROM consumer_configs")
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.0", e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Fatalf("artifact dir holds %v after the last version was deleted", files)
	}
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.0", e.tokens[apiserver.RoleEditor], "").want(http.StatusNotFound)
	e.fnUpload(e.tokens[apiserver.RoleViewer], "wordcount", "2.0.0", bin).want(http.StatusForbidden)
}

func TestFunctionUploadRefusesBadInput(t *testing.T) {
	e, dir := fnEnv(t, func(c *config.Config) { c.MaxUploadBytes = 64 << 10 })
	small := testBinary(t)[:4096] // an ELF header, cut short: elf.Open refuses it
	script := []byte("#!/bin/sh\necho not a binary\n")
	pe := append([]byte("MZ\x90\x00"), make([]byte, 200)...)
	cases := []struct {
		name, fnName, version string
		file                  []byte
		code                  int
		field                 string
	}{
		{"no name", "", "1.0.0", script, 422, "name"},
		{"upper-case name", "WordCount", "1.0.0", script, 422, "name"},
		{"name with a slash", "a/b", "1.0.0", script, 422, "name"},
		{"name too long", strings.Repeat("a", 65), "1.0.0", script, 422, "name"},
		{"no version", "wc", "", script, 422, "version"},
		{"version climbing out", "wc", "../x", script, 422, "version"},
		{"version dot-dot", "wc", "..", script, 422, "version"},
		{"version with a slash", "wc", "1/2", script, 422, "version"},
		{"no file", "wc", "1.0.0", nil, 422, "file"},
		{"shell script", "wc", "1.0.0", script, 422, "file"},
		{"Windows executable", "wc", "1.0.0", pe, 422, "file"},
		{"truncated ELF", "wc", "1.0.0", small, 422, "file"},
		{"over the size limit", "wc", "1.0.0", make([]byte, 65<<10), 413, "file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.fnUpload(e.tokens[apiserver.RoleEditor], tc.fnName, tc.version, tc.file).want(tc.code).errorOf()
			if got.Field != tc.field {
				t.Errorf("field = %q (%s), want %q", got.Field, got.Message, tc.field)
			}
			if n := e.count("functions"); n != 0 {
				t.Errorf("%d function rows after a refused upload", n)
			}
			if files := dirFiles(t, dir); len(files) != 0 {
				t.Errorf("artifact dir holds %v after a refused upload", files)
			}
		})
	}
	// Not multipart at all.
	if got := e.do("POST", "/api/v1/functions", e.tokens[apiserver.RoleEditor], `{"name":"wc"}`).want(http.StatusBadRequest).errorOf(); got.Field != "file" {
		t.Errorf("JSON body: field %q", got.Field)
	}
}
