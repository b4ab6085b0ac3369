package demo_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/infra/demo"
	"github.com/tributary-etl/tributary/shared/stacktest"
)

// The platform's own parts fail here: the API server, its MySQL, the Nomad
// agent. Each scenario runs an API server of its own (the real binary, on a
// private database) so that the shared stack is never disturbed.

// privateAPI is an apiserver process on a free port and a private database.
type privateAPI struct {
	t    *testing.T
	bin  string
	env  []string
	addr string
	logs string
	cmd  *exec.Cmd
}

// apiOptions says where a private API server finds MySQL and Nomad.
type apiOptions struct {
	mysqlAddr string   // host:port of MySQL, or of a proxy in front of it ("": the stack's)
	nomadAddr string   // Nomad's HTTP address ("": the stack's)
	dsn       string   // a database to share with another private server ("": a private one)
	env       []string // more KEY=value settings, which win over the defaults
	addr      string   // host:port to listen on ("": a free port)
}

func newPrivateAPI(t *testing.T, o apiOptions) *privateAPI {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	dir := t.TempDir()
	bin := filepath.Join(dir, "apiserver")
	build := exec.Command("go", "build", "-o", bin, "./apiserver/cmd/apiserver")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the API server: %v\n%s", err, out)
	}
	dsn := o.dsn
	if dsn == "" {
		_, dsn = stacktest.MySQL(t)
	}
	if o.mysqlAddr != "" {
		dsn = strings.Replace(dsn, "tcp("+mysqlAddrOf(t, dsn)+")", "tcp("+o.mysqlAddr+")", 1)
	}
	secret := make([]byte, 48)
	rand.Read(secret)
	a := &privateAPI{t: t, bin: bin, addr: cmp.Or(o.addr, freeAddr(t)), logs: filepath.Join(dir, "logs")}
	a.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"TRIBUTARY_HTTP_ADDR=" + a.addr,
		"TRIBUTARY_MYSQL_DSN=" + dsn,
		"TRIBUTARY_WORKER_MYSQL_DSN=" + dsn,
		"TRIBUTARY_JWT_SECRET=" + base64.StdEncoding.EncodeToString(secret),
		"TRIBUTARY_DATA_DIR=" + filepath.Join(dir, "data"),
		"TRIBUTARY_LOG_DIR=" + a.logs,
		"TRIBUTARY_REDIS_ADDR=" + stacktest.RedisAddr(),
		"NOMAD_ADDR=" + cmp.Or(o.nomadAddr, stacktest.NomadAddr()),
		"TRIBUTARY_JOB_TEMPLATE=" + filepath.Join(repo, "jobs/worker.nomad.hcl"),
		"TRIBUTARY_JAEGER_QUERY_URL=" + stacktest.JaegerQueryURL(),
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + stacktest.OTLPEndpoint(),
		"TRIBUTARY_RECONCILE_INTERVAL=5s",
	}
	for _, kv := range o.env {
		k, v, _ := strings.Cut(kv, "=")
		a.env = replaceEnv(a.env, k, v)
	}
	a.start()
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			tail, _ := os.ReadFile(filepath.Join(a.logs, "apiserver.log"))
			t.Logf("private API server log (last 3 KB):\n%s", tail[max(0, len(tail)-3000):])
		}
	})
	return a
}

func (a *privateAPI) url() string { return "http://" + a.addr }

// start runs the server and waits until /readyz answers 200.
func (a *privateAPI) start() {
	a.t.Helper()
	a.cmd = exec.Command(a.bin)
	a.cmd.Env = a.env
	if err := a.cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(a.url() + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
	}
	a.t.Fatalf("private API server on %s not ready within 30 s (log in %s)", a.addr, a.logs)
}

// kill ends the server with SIGKILL: no graceful stop, nothing flushed.
func (a *privateAPI) kill() {
	if a.cmd != nil {
		a.cmd.Process.Kill()
		a.cmd.Wait()
		a.cmd = nil
	}
}

func (a *privateAPI) stop() {
	if a.cmd != nil {
		a.cmd.Process.Signal(syscall.SIGTERM)
		a.cmd.Wait()
		a.cmd = nil
	}
}

// admin registers the first user of the private installation and logs in.
func (a *privateAPI) admin(ctx context.Context) *demo.Client {
	a.t.Helper()
	anon := &demo.Client{Base: a.url(), HTTP: &http.Client{Timeout: time.Minute}}
	const email, password = "chaos@tributary.local", "chaos-password-1"
	if err := anon.Do(ctx, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": password}, nil); err != nil {
		a.t.Fatalf("register the first admin: %v", err)
	}
	c, err := demo.Login(ctx, a.url(), email, password)
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

// joinPipeline saves, on the private API, a pipeline of two workers running
// the template function: a 2-topic join of 2 instances (left, right → mid)
// and a relay (mid → out). It returns the pipeline and its topics.
func joinPipeline(t *testing.T, ctx context.Context, c *demo.Client, name string) (p demo.Pipeline, left, right, out string) {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	cluster, err := demo.EnsureCluster(ctx, c, stacktest.KafkaBrokers()[0])
	if err != nil {
		t.Fatal(err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, demo.Options{Repo: repo, Functions: []string{"template"}})
	if err != nil {
		t.Fatal(err)
	}
	left, right, mid, out := name+".left", name+".right", name+".mid", name+".out"
	topic := func(id, topic string) map[string]any { return map[string]any{"id": id, "name": topic} }
	worker := func(id string, in, out []string, instances int) map[string]any {
		return map[string]any{"id": id, "name": name + "-" + id, "input_topics": in, "output_topics": out,
			"function": "template", "function_version": versions["template"], "cluster_id": cluster,
			"instances": instances, "timeout_seconds": 600}
	}
	graph := map[string]any{
		"topics": []any{topic("left", left), topic("right", right), topic("mid", mid), topic("out", out)},
		"workers": []any{
			worker("join", []string{"left", "right"}, []string{"mid"}, 2),
			worker("relay", []string{"mid"}, []string{"out"}, 1),
		},
	}
	p, err = demo.SavePipeline(ctx, c, name, graph)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { purgeJobs(t, name) })
	return p, left, right, out
}

// pipelineHealthy is how many of the pipeline's workers have every desired
// allocation healthy (-1 when the API does not answer).
func pipelineHealthy(ctx context.Context, c *demo.Client, p demo.Pipeline) int {
	var sts []demo.Status
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/pipelines/%d/status", p.ID), nil, &sts); err != nil {
		return -1
	}
	n := 0
	for _, s := range sts {
		if s.Desired > 0 && s.Healthy >= s.Desired {
			n++
		}
	}
	return n
}

// purgeJobs stops and purges, straight through Nomad, every job whose id
// holds name: a private API server may be gone by the time the test ends.
func purgeJobs(t *testing.T, name string) {
	nomadURL := stacktest.NomadAddr()
	r, err := http.Get(nomadURL + "/v1/jobs?prefix=tributary-")
	if err != nil {
		return
	}
	defer r.Body.Close()
	var jobs []struct{ ID string }
	if err := json.NewDecoder(r.Body).Decode(&jobs); err != nil {
		return
	}
	for _, j := range jobs {
		if strings.Contains(j.ID, name) {
			req, _ := http.NewRequest("DELETE", nomadURL+"/v1/job/"+url.PathEscape(j.ID)+"?purge=true", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
}

// TestChaosAPIRestartMidDeploy kills the API server (SIGKILL) in the middle
// of a pipeline deploy: the request accepted, the first worker's job on its
// way to Nomad, the second not yet sent. Ids flow into the pipeline's input
// topics meanwhile. A new server on the same database must finish the
// deploy (its reconciler), and every id must come out.
//
// "Mid-deploy" is made certain by a proxy in front of Nomad that holds
// every job registration; the server is killed while it waits on the first.
func TestChaosAPIRestartMidDeploy(t *testing.T) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gate := newRegisterGate(t, stacktest.NomadAddr())
	api := newPrivateAPI(t, apiOptions{nomadAddr: gate.url})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "chaosapi"), "_", "-")
	p, left, right, out := joinPipeline(t, ctx, c, name)
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	deployed := make(chan error, 1)
	go func() { deployed <- c.Do(ctx, "POST", fmt.Sprintf("/api/v1/pipelines/%d/deploy", p.ID), nil, nil) }()
	select {
	case <-gate.held:
	case err := <-deployed:
		t.Fatalf("the deploy returned (%v) before its first registration was held", err)
	case <-time.After(time.Minute):
		t.Fatal("no job registration reached Nomad within a minute")
	}
	api.kill()
	killedAt := time.Now()
	if err := <-deployed; err == nil {
		t.Fatal("the deploy request succeeded although its server was killed")
	}

	// The ids flow while no server runs; a new one starts 2 s later, now
	// straight on Nomad.
	var restartedAt time.Time
	healthy := make(chan time.Duration, 1) // 0: not within 3 minutes
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200,
		Tick: func(elapsed time.Duration) {
			if restartedAt.IsZero() && elapsed > 2*time.Second {
				api.env = replaceEnv(api.env, "NOMAD_ADDR", stacktest.NomadAddr())
				api.start()
				restartedAt = time.Now()
				go func() {
					for time.Since(restartedAt) < 3*time.Minute {
						if pipelineHealthy(ctx, c, p) == 2 {
							healthy <- time.Since(restartedAt)
							return
						}
						time.Sleep(250 * time.Millisecond)
					}
					healthy <- 0
				}()
			}
		}}
	feed.Run(t, ctx)
	healthyAfter := <-healthy
	if healthyAfter == 0 {
		t.Fatal("the restarted server did not finish the deploy within 3 minutes")
	}
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	t.Logf("chaos: API server killed mid-deploy: %d ids, lost %d, duplicates %d; down %s; pipeline fully healthy %s after the restart",
		feed.IDs, lost, dups, restartedAt.Sub(killedAt).Round(100*time.Millisecond), healthyAfter.Round(100*time.Millisecond))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
}

// registerGate is a reverse proxy in front of Nomad that holds every job
// registration (PUT /v1/jobs) until its client goes away; everything else
// passes.
type registerGate struct {
	url  string
	held chan struct{} // closed when the first registration is held
	once sync.Once
}

func newRegisterGate(t *testing.T, nomad string) *registerGate {
	target, err := url.Parse(nomad)
	if err != nil {
		t.Fatal(err)
	}
	g := &registerGate{held: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.url = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/v1/jobs" {
			g.once.Do(func() { close(g.held) })
			<-r.Context().Done() // held until the caller is gone
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return g
}

// TestChaosMySQLOutage makes MySQL unreachable for 10 s while ids flow
// through a deployed pipeline, in two ways: refusing connections, and
// accepting them but never answering (a dropped link, the one that makes
// clients hang). The workers keep running on the config they have, the API
// answers 503 naming the database (promptly, not a hang), and everything
// works again once MySQL is back.
func TestChaosMySQLOutage(t *testing.T) {
	for _, mode := range []string{"refused", "unresponsive"} {
		t.Run(mode, func(t *testing.T) { chaosMySQL(t, mode) })
	}
}

func chaosMySQL(t *testing.T, mode string) {
	stacktest.Nomad(t)
	brokers := stacktest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	proxy := newTCPProxy(t, mysqlAddrOf(t, stacktest.MySQLDSN()))
	fail, heal := proxy.cut, proxy.restore
	if mode == "unresponsive" {
		fail, heal = proxy.freeze, proxy.thaw
	}
	api := newPrivateAPI(t, apiOptions{mysqlAddr: proxy.addr})
	c := api.admin(ctx)
	name := strings.ReplaceAll(stacktest.Name(t, "chaosdb"), "_", "-")
	p, left, right, out := joinPipeline(t, ctx, c, name)
	if err := demo.DeployAndWait(ctx, c, p, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	emitted := stacktest.CheckIDs(ctx, brokers, out, false)

	const outage = 10 * time.Second
	var cutAt, backAt time.Time
	type answer struct {
		text string
		at   time.Time // when it came
	}
	var answers []answer // to the probes sent while MySQL was away
	var slowest time.Duration
	probed := make(chan struct{})
	feed := stacktest.JoinFeed{Brokers: brokers, Left: left, Right: right, IDs: 3000, Rate: 200,
		Tick: func(elapsed time.Duration) {
			if cutAt.IsZero() && elapsed > 3*time.Second {
				fail()
				cutAt = time.Now()
				// Two requests a second, each on its own: a slow answer
				// does not hold back the next probe.
				go func() {
					defer close(probed)
					var mu sync.Mutex
					var wg sync.WaitGroup
					for time.Since(cutAt) < outage-time.Second {
						for _, path := range []string{"/api/v1/workers", fmt.Sprintf("/api/v1/pipelines/%d/status", p.ID)} {
							wg.Go(func() {
								start := time.Now()
								text := probe(c, path)
								mu.Lock()
								defer mu.Unlock()
								answers = append(answers, answer{text, time.Now()})
								slowest = max(slowest, time.Since(start))
							})
						}
						time.Sleep(time.Second)
					}
					wg.Wait()
				}()
			}
			if !cutAt.IsZero() && backAt.IsZero() && time.Since(cutAt) > outage {
				heal()
				backAt = time.Now()
			}
		}}
	feed.Run(t, ctx)
	<-probed
	// A probe sent before MySQL came back may be answered after, from the
	// database: only the answers that came while it was away count.
	var during []string
	for _, a := range answers {
		if a.at.Before(backAt) {
			during = append(during, a.text)
		}
	}
	// The API answers again once MySQL is back.
	var apiBack time.Duration
	for time.Since(backAt) < time.Minute {
		if err := c.Do(ctx, "GET", "/api/v1/workers", nil, nil); err == nil {
			apiBack = time.Since(backAt)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ids := stacktest.IDs(feed.IDs)
	stacktest.WaitFor(t, 3*time.Minute, ids, emitted)
	lost, dups := emitted.Tally(ids)
	// Output produced while MySQL was away: the workers kept going.
	var whileDown int
	for _, at := range emitted.Times() {
		if at.After(cutAt) && at.Before(backAt) {
			whileDown++
		}
	}
	t.Logf("chaos: MySQL %s for %s: %d ids, lost %d, duplicates %d; %d records emitted while it was away; API while away: %s (slowest answer %s); API answering again %s after MySQL was back",
		mode, backAt.Sub(cutAt).Round(100*time.Millisecond), feed.IDs, lost, dups, whileDown, summarize(during), slowest.Round(time.Millisecond), apiBack.Round(10*time.Millisecond))
	if lost != 0 {
		t.Errorf("%d of %d ids lost", lost, feed.IDs)
	}
	if whileDown == 0 {
		t.Error("no output while MySQL was away: the workers depend on it to run")
	}
	if len(during) == 0 {
		t.Fatal("the API was not probed during the outage")
	}
	for _, d := range during {
		if !strings.HasPrefix(d, "503") || !strings.Contains(d, "database") {
			t.Errorf("API during the outage answered %q, want 503 naming the database", d)
		}
	}
	if apiBack == 0 {
		t.Error("the API did not answer again within a minute of MySQL coming back")
	}
}

// probe GETs path and returns "<status> <body>" or the transport error.
// Its client gives up after 20 s, so a hang shows as an error, not a wait.
func probe(c *demo.Client, path string) string {
	req, _ := http.NewRequest("GET", c.Base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// summarize counts identical answers: `2× 503 {...}`.
func summarize(answers []string) string {
	counts, order := map[string]int{}, []string{}
	for _, a := range answers {
		if counts[a] == 0 {
			order = append(order, a)
		}
		counts[a]++
	}
	var parts []string
	for _, a := range order {
		parts = append(parts, fmt.Sprintf("%d× %s", counts[a], a))
	}
	return strings.Join(parts, "; ")
}

// tcpProxy forwards connections to a target. It fails in two ways: cut
// closes its listener and every open connection (the target refuses
// connections), freeze stops forwarding bytes, on open and new connections
// alike (the target accepts but never answers, like a host behind a
// dropped link). restore and thaw undo them.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	thawed chan struct{} // closed unless frozen
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, addr: freeAddr(t), target: target, conns: map[net.Conn]bool{}, thawed: make(chan struct{})}
	close(p.thawed)
	p.restore()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			if !p.track(in, out) {
				continue
			}
			go p.pipe(out, in)
			go p.pipe(in, out)
		}
	}()
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thawed := p.thawed
			p.mu.Unlock()
			<-thawed
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.thawed = make(chan struct{})
}

func (p *tcpProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// track records a forwarded pair, or closes it when the proxy was cut
// meanwhile.
func (p *tcpProxy) track(in, out net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		in.Close()
		out.Close()
		return false
	}
	p.conns[in], p.conns[out] = true, true
	return true
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// mysqlAddrOf is the host:port of a go-sql-driver DSN.
func mysqlAddrOf(t *testing.T, dsn string) string {
	i, j := strings.Index(dsn, "tcp("), strings.Index(dsn, ")/")
	if i < 0 || j < i {
		t.Fatalf("DSN %q names no tcp(host:port)", dsn)
	}
	return dsn[i+4 : j]
}

func replaceEnv(env []string, key, value string) []string {
	out := []string{key + "=" + value}
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
