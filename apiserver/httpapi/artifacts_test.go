package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	"golang.org/x/crypto/bcrypt"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// twin is a second API server on e's database, listening on a port of
// its own and configured with another public URL: what an installation
// with several API servers looks like.
func (e *env) twin(t *testing.T) *httptest.Server {
	t.Helper()
	cfg := e.cfg
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv.Config.Handler = New(cfg, mysql.New(e.sql), log, WithBcryptCost(bcrypt.MinCost)).Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestArtifactServedByAnotherServer uploads through one server and
// downloads through another sharing its database, whole and by ranges
// (go-getter resumes with Range), across chunk boundaries.
func TestArtifactServedByAnotherServer(t *testing.T) {
	a := fnEnv(t)
	b := a.twin(t)
	bin := fnTestBinary(t) // tens of MiB: many chunks
	if len(bin) < 3*mysql.ArtifactChunkBytes {
		t.Fatalf("test binary of %d bytes spans too few chunks", len(bin))
	}
	var f functionJSON
	a.fnUpload(a.tokens[apiserver.RoleEditor], "twin", "1.0.0", bin).want(http.StatusCreated).decode(&f)

	get := func(rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", b.URL+"/artifacts/twin/1.0.0", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	whole, body := get("")
	if whole.StatusCode != http.StatusOK || !bytes.Equal(body, bin) {
		t.Fatalf("download through the other server: %d, %d bytes, equal %v", whole.StatusCode, len(body), bytes.Equal(body, bin))
	}
	if whole.Header.Get("ETag") != `"`+f.SHA256+`"` || whole.Header.Get("Content-Length") != strconv.Itoa(len(bin)) ||
		whole.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("headers %v", whole.Header)
	}
	c := int64(mysql.ArtifactChunkBytes)
	for _, r := range [][2]int64{{0, 0}, {c - 10, c + 10}, {c, 2*c - 1}, {c - 1, 3 * c}, {int64(len(bin)) - 5, int64(len(bin)) - 1}} {
		resp, body := get(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, bin[r[0]:r[1]+1]) {
			t.Errorf("range %d-%d: %d, %d bytes, equal %v", r[0], r[1], resp.StatusCode, len(body), bytes.Equal(body, bin[r[0]:r[1]+1]))
		}
	}

	// Both servers name one artifact URL, whatever their own public URL:
	// the one the installation recorded, so their job specs agree.
	req, _ := http.NewRequest("GET", b.URL+"/api/v1/functions", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[apiserver.RoleViewer])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var list []functionJSON
	resp{t, res.StatusCode, raw, res.Header}.want(http.StatusOK).decode(&list)
	if len(list) != 1 || list[0].ArtifactURL != f.ArtifactURL || f.ArtifactURL != a.cfg.PublicURL+"/artifacts/twin/1.0.0" {
		t.Errorf("the other server lists %+v, want artifact URL %s", list, a.cfg.PublicURL+"/artifacts/twin/1.0.0")
	}
}

// TestNomadFetchesArtifactFromAnotherServer runs a Nomad job whose
// artifact block downloads, with its checksum, from a server that did not
// receive the upload.
func TestNomadFetchesArtifactFromAnotherServer(t *testing.T) {
	addr := stacktest.Nomad(t)
	client, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	a := fnEnv(t)
	b := a.twin(t)
	// A real Linux executable that runs without any configuration.
	bin, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Skipf("no /bin/sleep to upload: %v", err)
	}
	var f functionJSON
	a.fnUpload(a.tokens[apiserver.RoleEditor], "sleeper", "1.0.0", bin).want(http.StatusCreated).decode(&f)

	id := stacktest.Name(t, "e2e-artifact")
	job := nomad.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	task := nomad.NewTask("sleep", "raw_exec").SetConfig("command", "local/sleep").SetConfig("args", []string{"300"})
	task.Artifacts = []*nomad.TaskArtifact{{
		GetterSource:  new(b.URL + "/artifacts/sleeper/1.0.0"),
		RelativeDest:  new("local/sleep"),
		GetterMode:    new("file"),
		GetterOptions: map[string]string{"checksum": "sha256:" + f.SHA256},
	}}
	task.Resources = &nomad.Resources{CPU: new(20), MemoryMB: new(16)}
	group := nomad.NewTaskGroup("g", 1).AddTask(task)
	group.RestartPolicy = &nomad.RestartPolicy{Attempts: new(0), Mode: new("fail")}
	group.ReschedulePolicy = &nomad.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
	job.AddTaskGroup(group)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, _, err := client.Jobs().Register(job, (&nomad.WriteOptions{}).WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Jobs().Deregister(id, true, nil) })

	var index uint64
	for {
		allocs, meta, err := client.Jobs().Allocations(id, false, (&nomad.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Second}).WithContext(ctx))
		if err != nil {
			t.Fatalf("allocations of %s: %v", id, err)
		}
		index = meta.LastIndex
		for _, al := range allocs {
			st := al.TaskStates["sleep"]
			if st == nil {
				continue
			}
			for _, ev := range st.Events {
				if ev.Type == nomad.TaskArtifactDownloadFailed {
					t.Fatalf("artifact download from the other server failed: %s", ev.DisplayMessage)
				}
			}
			if st.State == "running" {
				return // downloaded, checksum verified, started
			}
		}
	}
}
