package httpapi

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

// fnEnv is a server on a database of the test's own, with users.
func fnEnv(t *testing.T, mutate ...func(*config.Config)) *env {
	return newEnv(t, mutate...).withUsers()
}

// fnUpload posts a multipart upload; fields with an empty value are left out.
func (e *env) fnUpload(token, name, version string, file []byte) resp {
	e.t.Helper()
	return e.fnUploadDescribed(token, name, version, file, "")
}

// fnUploadDescribed is fnUpload with a describe field.
func (e *env) fnUploadDescribed(token, name, version string, file []byte, describe string) resp {
	e.t.Helper()
	return e.fnUploadForm(token, name, version, "function", file, describe)
}

// fnUploadForm posts an upload form: name, version, the file under
// filename (none when nil) and describe, each left out when empty.
func (e *env) fnUploadForm(token, name, version, filename string, file []byte, describe string) resp {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"name", name}, {"version", version}, {"describe", describe}} {
		if f[1] != "" {
			w.WriteField(f[0], f[1])
		}
	}
	if file != nil {
		fw, _ := w.CreateFormFile("file", filename)
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

// fnTestBinary is a real Linux executable: the test binary itself.
func fnTestBinary(t *testing.T) []byte {
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

// fnStored lists the sha256 of the stored binaries, and fails the test if
// an upload left staged (unnamed) chunks behind.
func (e *env) fnStored() []string {
	e.t.Helper()
	rows, err := e.sql.Query("SELECT COALESCE(sha256, '') FROM artifacts ORDER BY sha256")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			e.t.Fatal(err)
		}
		if sha == "" {
			e.t.Error("an upload left staged chunks behind")
			continue
		}
		out = append(out, sha)
	}
	return out
}

// fnELF is the smallest file debug/elf accepts: an ELF header with no program
// or section headers, with the given class, OS ABI, type, machine and entry.
func fnELF(class elf.Class, abi elf.OSABI, typ elf.Type, machine elf.Machine, entry uint64) []byte {
	b := make([]byte, 64)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION], b[elf.EI_OSABI] = byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(abi)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(machine))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	if class == elf.ELFCLASS32 {
		le.PutUint32(b[24:], uint32(entry))
		le.PutUint16(b[40:], 52) // header size
		return b[:52]
	}
	le.PutUint64(b[24:], entry)
	le.PutUint16(b[52:], 64)
	return b
}

func TestFunctionUploadDownloadDelete(t *testing.T) {
	e := fnEnv(t)
	bin := fnTestBinary(t)
	sum := sha256.Sum256(bin)
	want := hex.EncodeToString(sum[:])

	var f functionJSON
	e.fnUpload(e.tokens[apiserver.RoleEditor], "wordcount", "1.0.0", bin).want(http.StatusCreated).decode(&f)
	if f.SHA256 != want || f.SizeBytes != int64(len(bin)) || f.ArtifactURL != e.cfg.PublicURL+"/artifacts/wordcount/1.0.0" {
		t.Fatalf("uploaded %+v, want sha %s size %d", f, want, len(bin))
	}
	// The same bytes as another version share one file.
	e.fnUpload(e.tokens[apiserver.RoleEditor], "wordcount", "1.0.1", bin).want(http.StatusCreated)
	if files := e.fnStored(); len(files) != 1 || files[0] != want {
		t.Fatalf("stored binaries %v, want only %s", files, want)
	}
	var chunks int
	e.sql.QueryRow("SELECT COUNT(*) FROM artifact_chunks").Scan(&chunks)
	if wantChunks := (len(bin) + mysql.ArtifactChunkBytes - 1) / mysql.ArtifactChunkBytes; chunks != wantChunks {
		t.Errorf("%d chunks stored for %d bytes, want %d: one copy per content", chunks, len(bin), wantChunks)
	}

	// Download without a token, as Nomad does.
	r := e.do("GET", "/artifacts/wordcount/1.0.0", "", "").want(http.StatusOK)
	if !bytes.Equal(r.body, bin) || r.hdr.Get("ETag") != `"`+want+`"` || r.hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d bytes, ETag %q, type %q", len(r.body), r.hdr.Get("ETag"), r.hdr.Get("Content-Type"))
	}
	if r.hdr.Get("Content-Length") != strconv.Itoa(len(bin)) {
		t.Errorf("Content-Length %q, want %d", r.hdr.Get("Content-Length"), len(bin))
	}
	h := e.do("HEAD", "/artifacts/wordcount/1.0.0", "", "").want(http.StatusOK)
	if len(h.body) != 0 || h.hdr.Get("ETag") != `"`+want+`"` || h.hdr.Get("Content-Length") != strconv.Itoa(len(bin)) {
		t.Errorf("HEAD: %d bytes of body, ETag %q, Content-Length %q", len(h.body), h.hdr.Get("ETag"), h.hdr.Get("Content-Length"))
	}
	req := httptest.NewRequest("GET", "/artifacts/wordcount/1.0.0", nil)
	req.Header.Set("If-None-Match", `"`+want+`"`)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match with the sha256: %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
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
	// The list says who uploaded each version and which workers use it.
	e.do("GET", "/api/v1/functions", e.tokens[apiserver.RoleViewer], "").want(http.StatusOK).decode(&list)
	if len(list) != 2 || list[0].UploadedBy == nil || *list[0].UploadedBy != "editor@example.com" ||
		len(list[0].UsedBy) != 1 || list[0].UsedBy[0].Name != "counter" || list[0].UsedBy[0].ID == 0 || len(list[1].UsedBy) != 0 {
		t.Errorf("list with users: %+v", list)
	}
	// Deleting 1.0.1 keeps the file 1.0.0 shares; deleting both removes it.
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.1", e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	if len(e.fnStored()) != 1 {
		t.Fatal("a file still in use was removed")
	}
	e.sql.Exec("DELETE FROM consumer_configs")
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.0", e.tokens[apiserver.RoleEditor], "").want(http.StatusNoContent)
	if files := e.fnStored(); len(files) != 0 {
		t.Fatalf("stored binaries %v after the last version was deleted", files)
	}
	e.do("DELETE", "/api/v1/functions/wordcount/1.0.0", e.tokens[apiserver.RoleEditor], "").want(http.StatusNotFound)
	e.fnUpload(e.tokens[apiserver.RoleViewer], "wordcount", "2.0.0", bin).want(http.StatusForbidden)
}

func TestFunctionUploadRefusesBadInput(t *testing.T) {
	e := fnEnv(t, func(c *config.Config) { c.MaxUploadBytes = 64 << 10 })
	small := fnTestBinary(t)[:4096] // an ELF header, cut short: elf.Open refuses it
	script := []byte("#!/bin/sh\necho not a binary\n")
	pe := append([]byte("MZ\x90\x00"), make([]byte, 200)...)
	i386 := fnELF(elf.ELFCLASS32, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_386, 0x8048000)
	riscv := fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_RISCV, 0x10000)
	object := fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_REL, elf.EM_X86_64, 0)
	library := fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_DYN, elf.EM_X86_64, 0)
	freebsd := fnELF(elf.ELFCLASS64, elf.ELFOSABI_FREEBSD, elf.ET_EXEC, elf.EM_X86_64, 0x401000)
	cases := []struct {
		name, fnName, version string
		file                  []byte
		code                  int
		field, reason         string
	}{
		{"no name", "", "1.0.0", script, 422, "name", "required"},
		{"upper-case name", "WordCount", "1.0.0", script, 422, "name", "lower-case"},
		{"name with a slash", "a/b", "1.0.0", script, 422, "name", ""},
		{"name climbing out", "../x", "1.0.0", script, 422, "name", ""},
		{"name too long", strings.Repeat("a", 65), "1.0.0", script, 422, "name", ""},
		{"no version", "wc", "", script, 422, "version", "required"},
		{"version climbing out", "wc", "../x", script, 422, "version", ""},
		{"version dot-dot", "wc", "..", script, 422, "version", ""},
		{"version with a slash", "wc", "1/2", script, 422, "version", ""},
		{"version too long", "wc", strings.Repeat("1", 65), script, 422, "version", ""},
		{"no file", "wc", "1.0.0", nil, 422, "file", "required"},
		{"shell script", "wc", "1.0.0", script, 422, "file", "not an ELF executable"},
		{"Windows executable", "wc", "1.0.0", pe, 422, "file", "not an ELF executable"},
		{"truncated ELF", "wc", "1.0.0", small, 422, "file", "not an ELF executable"},
		{"object file", "wc", "1.0.0", object, 422, "file", "ET_REL"},
		{"shared library", "wc", "1.0.0", library, 422, "file", "shared library"},
		{"FreeBSD executable", "wc", "1.0.0", freebsd, 422, "file", "not Linux"},
		{"32-bit x86 executable", "wc", "1.0.0", i386, 422, "file", "EM_386"},
		{"RISC-V executable", "wc", "1.0.0", riscv, 422, "file", "EM_RISCV"},
		{"over the size limit", "wc", "1.0.0", make([]byte, 65<<10), 413, "file", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.fnUpload(e.tokens[apiserver.RoleEditor], tc.fnName, tc.version, tc.file).want(tc.code).errorOf()
			if got.Field != tc.field || !strings.Contains(got.Message, tc.reason) {
				t.Errorf("field %q, message %q; want field %q and a message with %q", got.Field, got.Message, tc.field, tc.reason)
			}
			if n := e.count("functions"); n != 0 {
				t.Errorf("%d function rows after a refused upload", n)
			}
			if files := e.fnStored(); len(files) != 0 {
				t.Errorf("stored binaries %v after a refused upload", files)
			}
		})
	}
	// Not multipart at all.
	if got := e.do("POST", "/api/v1/functions", e.tokens[apiserver.RoleEditor], `{"name":"wc"}`).want(http.StatusBadRequest).errorOf(); got.Field != "file" {
		t.Errorf("JSON body: field %q", got.Field)
	}
}

// Executables for both platforms workers run on are accepted, position
// independent (ET_DYN with an entry point) as well as static.
func TestFunctionUploadAcceptsLinuxExecutables(t *testing.T) {
	e := fnEnv(t)
	for i, bin := range [][]byte{
		fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_AARCH64, 0x400000),
		fnELF(elf.ELFCLASS64, elf.ELFOSABI_LINUX, elf.ET_DYN, elf.EM_X86_64, 0x1040),
	} {
		var f functionJSON
		e.fnUpload(e.tokens[apiserver.RoleEditor], "tiny", fmt.Sprintf("1.0.%d", i), bin).want(http.StatusCreated).decode(&f)
		r, err := e.db.OpenArtifact(t.Context(), f.SHA256)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		}
		if err != nil || !bytes.Equal(got, bin) {
			t.Errorf("stored file of 1.0.%d: %v, equal %v", i, err, bytes.Equal(got, bin))
		}
	}
}

// A name and version sent ahead of the file are checked before the file is
// read: a taken or invalid one is refused even when the file is over the
// limit (which only streaming it would find), and the stored file stays.
func TestFunctionUploadRefusedBeforeStreaming(t *testing.T) {
	e := fnEnv(t, func(c *config.Config) { c.MaxUploadBytes = 1024 })
	first := fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_X86_64, 0x401000)
	big := append(fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_X86_64, 0x402000), make([]byte, 4096)...)
	var f functionJSON
	e.fnUpload(e.tokens[apiserver.RoleEditor], "dup", "1", first).want(http.StatusCreated).decode(&f)
	for _, tc := range []struct {
		fnName, version string
		code            int
		field, reason   string
	}{
		{"dup", "1", http.StatusConflict, "version", "immutable"},
		{"dup", "../1", http.StatusUnprocessableEntity, "version", "letters, digits"},
		{"Dup", "2", http.StatusUnprocessableEntity, "name", "lower-case"},
		{"dup", "2", http.StatusRequestEntityTooLarge, "file", "exceeds 1024 bytes"},
	} {
		got := e.fnUpload(e.tokens[apiserver.RoleEditor], tc.fnName, tc.version, big).want(tc.code).errorOf()
		if got.Field != tc.field || !strings.Contains(got.Message, tc.reason) {
			t.Errorf("%s %s: field %q, message %q", tc.fnName, tc.version, got.Field, got.Message)
		}
	}
	if files := e.fnStored(); len(files) != 1 || files[0] != f.SHA256 {
		t.Errorf("stored binaries %v, want only %s", files, f.SHA256)
	}
	if n := e.count("functions"); n != 1 {
		t.Errorf("%d versions, want 1", n)
	}
	if r := e.do("GET", "/artifacts/dup/1", "", "").want(http.StatusOK); !bytes.Equal(r.body, first) {
		t.Error("a refused upload replaced the stored binary")
	}
}

// Uploads and deletes of versions sharing one file, racing each other, never
// leave a version without its file (its download fails) nor, once every
// version is deleted, a file behind.
func TestFunctionConcurrentUploadDeleteKeepFiles(t *testing.T) {
	e := fnEnv(t)
	bin := fnELF(elf.ELFCLASS64, elf.ELFOSABI_NONE, elf.ET_EXEC, elf.EM_X86_64, 0x401000)
	editor := e.tokens[apiserver.RoleEditor]
	var wg sync.WaitGroup
	failures := make(chan string, 4*12*3)
	for g := range 4 {
		wg.Go(func() {
			for i := range 12 {
				v := fmt.Sprintf("%d.%d", g, i)
				for _, r := range []struct {
					what string
					code int
					got  resp
				}{
					{"upload", http.StatusCreated, e.fnUpload(editor, "shared", v, bin)},
					{"download", http.StatusOK, e.do("GET", "/artifacts/shared/"+v, "", "")},
					{"delete", http.StatusNoContent, e.do("DELETE", "/api/v1/functions/shared/"+v, editor, "")},
				} {
					if r.got.code != r.code {
						failures <- fmt.Sprintf("%s %s: %d %s", r.what, v, r.got.code, r.got.body)
					}
				}
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if n := e.count("functions"); n != 0 {
		t.Errorf("%d versions left, want none", n)
	}
	if files := e.fnStored(); len(files) != 0 {
		t.Errorf("stored binaries %v after every version was deleted", files)
	}
}
