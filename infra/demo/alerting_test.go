package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"gopkg.in/yaml.v3"

	"github.com/tributary-etl/tributary/shared/stacktest"
)

// The alerting chain, end to end with the real parts: a worker's dead
// letters, scraped by Prometheus through Nomad's service discovery, fire
// the shipped rule; Alertmanager delivers it to the API server's webhook;
// the API server stores it and forwards it to an outgoing webhook.
//
// Prometheus and Alertmanager are private copies (the stack's binaries,
// the shipped configuration and rules), so that the rules' `for` can be
// shortened and the alerts go to a private API server.

// rewriteYAML reads the repository's YAML file rel, lets edit change it,
// and writes it to dir/name.
func rewriteYAML(t *testing.T, rel, dir, name string, edit func(map[string]any)) string {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	edit(doc)
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startProcess runs bin until the test ends and waits until url answers 200.
func startProcess(t *testing.T, name, bin, url string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s log (last 2 KB):\n%s", name, b[max(0, len(b)-2000):])
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("%s did not answer %s within 30 s", name, url)
}

// receiver is an outgoing-webhook endpoint (a real HTTP server) that keeps
// what it is sent.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) find(substr ...string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
next:
	for _, b := range r.bodies {
		for _, s := range substr {
			if !strings.Contains(b, s) {
				continue next
			}
		}
		return b, true
	}
	return "", false
}

// TestDeadLetterBurstFiresAnAlert induces a burst of dead letters (records
// that are not JSON) in a deployed worker and follows the alert:
// TributaryDeadLetters fires in Prometheus, Alertmanager delivers it to the
// API server, GET /api/v1/alerts lists it for the worker, and the outgoing
// webhook receives it in Slack's shape.
func TestDeadLetterBurstFiresAnAlert(t *testing.T) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	promBin := stacktest.Binary(t, "TRIBUTARY_PROMETHEUS_BIN")
	amBin := stacktest.Binary(t, "TRIBUTARY_ALERTMANAGER_BIN")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()

	out := newReceiver(t)
	const token = "alerting-test-token"
	api := newPrivateAPI(t, apiOptions{env: []string{"TRIBUTARY_ALERTMANAGER_TOKEN=" + token, "TRIBUTARY_ALERT_WEBHOOK_URL=" + out.srv.URL}})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "alert"), "_", "-")
	p, _, _, _ := joinPipeline(t, ctx, c, name)
	relay := name + "-relay"
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/workers/%d/deploy", p.WorkerIDs[relay]), nil, nil); err != nil {
		t.Fatal(err)
	}

	// Alertmanager: the shipped route and receiver, sent to the private API
	// server without the 10 s group wait.
	amAddr := freeAddr(t)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager-token"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	amConfig := rewriteYAML(t, "infra/alertmanager/alertmanager.yml", dir, "alertmanager.yml", func(doc map[string]any) {
		route := doc["route"].(map[string]any)
		route["group_wait"], route["group_interval"] = "1s", "5s"
		hook := doc["receivers"].([]any)[0].(map[string]any)["webhook_configs"].([]any)[0].(map[string]any)
		hook["url"] = api.url() + "/api/v1/alerts/webhook"
	})
	startProcess(t, "alertmanager", amBin, "http://"+amAddr+"/-/ready", "--config.file="+amConfig,
		"--web.listen-address="+amAddr, "--storage.path="+filepath.Join(dir, "am-data"), "--cluster.listen-address=")

	// Prometheus: the shipped rules with every `for` at 2 s, the shipped
	// worker scrape job kept to this test's worker, evaluated every second.
	rules := rewriteYAML(t, "infra/prometheus/rules/tributary.yml", dir, "rules.yml", func(doc map[string]any) {
		for _, g := range doc["groups"].([]any) {
			for _, r := range g.(map[string]any)["rules"].([]any) {
				if rule := r.(map[string]any); rule["for"] != nil {
					rule["for"] = "2s"
				}
			}
		}
	})
	promAddr := freeAddr(t)
	promConfig := rewriteYAML(t, "infra/prometheus/prometheus.yml", dir, "prometheus.yml", func(doc map[string]any) {
		doc["global"] = map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
		doc["rule_files"] = []any{rules}
		doc["alerting"] = map[string]any{"alertmanagers": []any{map[string]any{
			"static_configs": []any{map[string]any{"targets": []any{amAddr}}}}}}
		var jobs []any
		for _, j := range doc["scrape_configs"].([]any) {
			job := j.(map[string]any)
			if job["job_name"] == "tributary-workers" {
				job["nomad_sd_configs"].([]any)[0].(map[string]any)["server"] = stacktest.NomadAddr()
				job["nomad_sd_configs"].([]any)[0].(map[string]any)["refresh_interval"] = "1s"
				job["relabel_configs"] = append(job["relabel_configs"].([]any), map[string]any{
					"source_labels": []any{"worker"}, "regex": relay, "action": "keep"})
				jobs = append(jobs, job)
			}
		}
		doc["scrape_configs"] = jobs
	})
	startProcess(t, "prometheus", promBin, "http://"+promAddr+"/-/ready", "--config.file="+promConfig,
		"--web.listen-address="+promAddr, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"))

	// Wait until Prometheus scrapes the worker, so the counter's zero is
	// seen before the burst and rate() has two points to compare.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var res struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		r, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + fmt.Sprintf("tributary_dead_lettered_total%%7Bworker%%3D%%22%s%%22%%7D", relay))
		if err == nil {
			json.NewDecoder(r.Body).Decode(&res)
			r.Body.Close()
		}
		if len(res.Data.Result) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape %s within 90 s", relay)
		}
	}

	burst := time.Now()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: name + ".mid", BatchTimeout: 10 * time.Millisecond}
	defer w.Close()
	var msgs []kafka.Message
	for i := range 20 {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "bad-%d", i), Value: []byte("this is not JSON")})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	type alert struct {
		Name, Status, Worker, Summary string
	}
	var stored []alert
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		var res struct{ Alerts []alert }
		if err := c.Do(ctx, "GET", "/api/v1/alerts?state=firing&worker="+relay, nil, &res); err != nil {
			t.Fatal(err)
		}
		stored = res.Alerts
		if len(stored) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing alert for %s at GET /api/v1/alerts 2 minutes after the burst", relay)
		}
	}
	if a := stored[0]; a.Name != "TributaryDeadLetters" || a.Worker != relay || !strings.Contains(a.Summary, "dead-lettering") {
		t.Fatalf("stored alert %+v, want TributaryDeadLetters for %s with the rule's summary", a, relay)
	}
	t.Logf("alert stored by the API server %s after the burst", time.Since(burst).Round(100*time.Millisecond))

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if body, ok := out.find("TributaryDeadLetters", relay); ok {
			var slack struct {
				Text        string `json:"text"`
				Attachments []struct {
					Color, Title string
				} `json:"attachments"`
			}
			if err := json.Unmarshal([]byte(body), &slack); err != nil || slack.Text == "" || len(slack.Attachments) == 0 {
				t.Fatalf("outgoing webhook body is not Slack's shape (%v): %s", err, body)
			}
			t.Logf("outgoing webhook received it %s after the burst: %s", time.Since(burst).Round(100*time.Millisecond), slack.Text)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outgoing webhook received no TributaryDeadLetters alert")
		}
	}
}
