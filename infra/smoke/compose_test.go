package smoke

// The tests in this file check docker-compose.yml, the Docker Compose
// description of the local stack, against the native stack (infra/stack.sh):
// same services, same ports on 127.0.0.1 only, same database and user, same
// Redis persistence, and an API server wired to every service by name. They
// read two files and need no service and no Docker engine.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"go.yaml.in/yaml/v3"
)

const (
	composePath    = "../../docker-compose.yml"
	stackPath      = "../stack.sh"
	apiserverPort  = "8080" // the API server's port in the native stack too (infra/stack.sh)
	healthyCond    = "service_healthy"
	jwtSecretVar   = "TRIBUTARY_JWT_SECRET"
	alertTokenVar  = "TRIBUTARY_ALERTMANAGER_TOKEN"
	apiserverName  = "apiserver"
	apiDockerfile  = "apiserver/Dockerfile"
	publishedHost  = "127.0.0.1"
	testJWTSecret  = "not-a-real-secret"
	testAlertToken = "not-a-real-token"
	testDBPassword = "another-password"
)

// composeServices is what docker-compose.yml must hold, service by service.
var composeServices = []struct {
	name  string
	image string         // image repository; "" when built from a Dockerfile
	tag   *regexp.Regexp // the pinned tag it must carry
	// ports names the stack.sh variables holding the native ports the
	// service publishes (and listens on inside its container).
	ports []string
	// dataDir is where the service keeps its state, on a named volume; ""
	// for a service without state worth keeping.
	dataDir string
	// infra services must report health: the API server waits for it.
	infra bool
}{
	{name: "kafka", image: "apache/kafka", tag: regexp.MustCompile(`^\d+\.\d+\.\d+$`),
		ports: []string{"KAFKA_PORT"}, dataDir: "/var/lib/kafka/data", infra: true},
	// MariaDB's 10.11 line, which the tests run (Debian 12's): the
	// migrations use its ADD COLUMN IF NOT EXISTS.
	{name: "mysql", image: "mariadb", tag: regexp.MustCompile(`^10\.11\.\d+$`),
		ports: []string{"MYSQL_PORT"}, dataDir: "/var/lib/mysql", infra: true},
	{name: "redis", image: "redis", tag: regexp.MustCompile(`^7\.\d+\.\d+$`),
		ports: []string{"REDIS_PORT"}, dataDir: "/data", infra: true},
	{name: "jaeger", image: "jaegertracing/jaeger", tag: regexp.MustCompile(`^2\.\d+\.\d+$`),
		ports: []string{"JAEGER_QUERY_PORT", "JAEGER_OTLP_GRPC_PORT", "JAEGER_OTLP_HTTP_PORT"}, infra: true},
	// v1.6.3 exactly: the last MPL-2.0 Nomad, the one the native stack builds.
	{name: "nomad", image: "hashicorp/nomad", tag: regexp.MustCompile(`^1\.6\.3$`),
		ports: []string{"NOMAD_PORT"}, infra: true},
	{name: "prometheus", image: "prom/prometheus", tag: regexp.MustCompile(`^v3\.\d+\.\d+$`),
		ports: []string{"PROMETHEUS_PORT"}, dataDir: "/prometheus", infra: true},
	{name: "alertmanager", image: "prom/alertmanager", tag: regexp.MustCompile(`^v0\.\d+\.\d+$`),
		ports: []string{"ALERTMANAGER_PORT"}, dataDir: "/alertmanager", infra: true},
	{name: apiserverName, ports: []string{"APISERVER_PORT"}, dataDir: "/var/lib/tributary"},
}

// apiserverEnv is every variable the API server gets, and the service each
// address in it must name.
var apiserverEnv = map[string]string{
	"TRIBUTARY_HTTP_ADDR":         apiserverName,
	"TRIBUTARY_MYSQL_DSN":         "mysql",
	"TRIBUTARY_REDIS_ADDR":        "redis",
	"NOMAD_ADDR":                  "nomad",
	"TRIBUTARY_PUBLIC_URL":        apiserverName, // where the Nomad client fetches artifacts
	"OTEL_EXPORTER_OTLP_ENDPOINT": "jaeger",
	"TRIBUTARY_JAEGER_QUERY_URL":  "jaeger",
	"TRIBUTARY_PROMETHEUS_URL":    "prometheus",
	// The link the browser follows to Jaeger's UI: the host's published
	// port, not a service name.
	"TRIBUTARY_JAEGER_UI_URL": "",
	jwtSecretVar:              "",
	alertTokenVar:             "",
}

func TestComposeFileShape(t *testing.T) {
	c := loadCompose(t)
	for key := range c.Rest {
		switch {
		case key == "version":
			t.Errorf("top-level key %q: the Compose spec has none (Compose warns it is obsolete)", key)
		case !strings.HasPrefix(key, "x-"):
			t.Errorf("unknown top-level key %q", key)
		}
	}
	for _, name := range sortedKeys(c.Services) {
		for key := range c.Services[name].Rest {
			if !composeServiceKeys[key] && !strings.HasPrefix(key, "x-") {
				t.Errorf("service %s: unknown key %q (a typo, or a Compose key missing from composeServiceKeys)", name, key)
			}
		}
		for _, v := range c.Services[name].Volumes {
			if v.named() {
				if _, ok := c.Volumes[v.Source]; !ok {
					t.Errorf("service %s: volume %q is not declared under the top-level volumes", name, v.Source)
				}
			}
		}
		// Nothing listens beyond 127.0.0.1 by default, whatever the service.
		for _, p := range c.Services[name].Ports {
			if p.HostIP != publishedHost {
				t.Errorf("service %s: port %s is published on %q, want %s only", name, p, p.HostIP, publishedHost)
			}
		}
	}
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	native := loadStack(t)
	for _, want := range composeServices {
		t.Run(want.name, func(t *testing.T) {
			s, ok := c.Services[want.name]
			if !ok {
				t.Fatalf("no service %q in %s", want.name, composePath)
			}

			if want.image == "" {
				if s.Build == nil || s.Build.Dockerfile != apiDockerfile {
					t.Errorf("build = %+v, want dockerfile %s", s.Build, apiDockerfile)
				}
			} else {
				repo, tag := splitImage(s.Image)
				if repo != want.image {
					t.Errorf("image %q: repository %q, want %q", s.Image, repo, want.image)
				}
				if tag == "latest" || !want.tag.MatchString(tag) {
					t.Errorf("image %q: tag %q, want a pinned version matching %s", s.Image, tag, want.tag)
				}
			}

			var wantPorts []string
			for _, v := range want.ports {
				wantPorts = append(wantPorts, native.port(t, v))
			}
			var got []string
			for _, p := range s.Ports {
				if p.Published != p.Target {
					t.Errorf("port %s: published %s but the container listens on %s; the native stack uses one port for both", p, p.Published, p.Target)
				}
				got = append(got, p.Published)
			}
			sort.Strings(got)
			sort.Strings(wantPorts)
			if !slices.Equal(got, wantPorts) {
				t.Errorf("published ports %v, want the native stack's %v", got, wantPorts)
			}

			if want.infra && !s.Healthcheck.enabled() {
				t.Errorf("no healthcheck: the API server waits for it to be healthy")
			}
			if want.dataDir != "" {
				i := slices.IndexFunc(s.Volumes, func(v volumeMount) bool { return v.Target == want.dataDir })
				switch {
				case i < 0:
					t.Errorf("nothing mounted on its data directory %s", want.dataDir)
				case !s.Volumes[i].named():
					t.Errorf("%s is on %q, want a named volume", want.dataDir, s.Volumes[i].Source)
				}
			}
		})
	}
}

func TestComposeRedisPersistence(t *testing.T) {
	redis := loadCompose(t).service(t, "redis")
	for flag, want := range map[string]string{"--appendonly": "yes", "--appendfsync": "everysec"} {
		if got, ok := lastFlag(redis.Command, flag); !ok || got != want {
			t.Errorf("command %q: %s = %q, want %q as in the native stack", redis.Command, flag, got, want)
		}
	}
}

func TestComposeMySQLMatchesNativeStack(t *testing.T) {
	env := loadCompose(t).service(t, "mysql").Environment
	native := loadStack(t)
	for composeVar, stackVar := range map[string]string{
		"MARIADB_DATABASE": "DB_NAME",
		"MARIADB_USER":     "DB_USER",
		"MARIADB_PASSWORD": "DB_PASS",
	} {
		// Resolved with and without the password override, so both files
		// must also read the same variable.
		for _, vars := range []map[string]string{nil, {"TRIBUTARY_DB_PASSWORD": testDBPassword}} {
			got := mustInterpolate(t, env[composeVar], vars)
			want := mustInterpolate(t, native.vars[stackVar], vars)
			if got != want {
				t.Errorf("%s = %q (with %v), want %q like stack.sh's %s", composeVar, got, vars, want, stackVar)
			}
		}
	}
}

func TestComposeKafka(t *testing.T) {
	c := loadCompose(t)
	kafka := c.service(t, "kafka")
	env := kafka.Environment
	native := loadStack(t)

	if roles := strings.Split(env["KAFKA_PROCESS_ROLES"], ","); !slices.Contains(roles, "broker") || !slices.Contains(roles, "controller") {
		t.Errorf("KAFKA_PROCESS_ROLES = %q, want broker,controller (one KRaft node, no ZooKeeper)", env["KAFKA_PROCESS_ROLES"])
	}
	if env["KAFKA_NODE_ID"] == "" {
		t.Errorf("KAFKA_NODE_ID is not set")
	}
	if env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] != "true" {
		t.Errorf("KAFKA_AUTO_CREATE_TOPICS_ENABLE = %q, want true", env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"])
	}
	for _, vars := range []map[string]string{nil, {"TRIBUTARY_KAFKA_PARTITIONS": "3"}} {
		got := mustInterpolate(t, env["KAFKA_NUM_PARTITIONS"], vars)
		want := mustInterpolate(t, native.vars["KAFKA_PARTITIONS"], vars)
		if got != want {
			t.Errorf("KAFKA_NUM_PARTITIONS = %q (with %v), want %q like stack.sh", got, vars, want)
		}
	}
	// Kafka writes where KAFKA_LOG_DIRS says; the volume must be there.
	if dir := env["KAFKA_LOG_DIRS"]; !slices.ContainsFunc(kafka.Volumes, func(v volumeMount) bool { return v.named() && v.Target == dir }) {
		t.Errorf("KAFKA_LOG_DIRS = %q is not on a named volume (mounted: %v)", dir, kafka.Volumes)
	}
	// Clients connect to the advertised addresses, so the host needs one on
	// the published port and a loopback address.
	hostPort := native.port(t, "KAFKA_PORT")
	if !slices.ContainsFunc(advertised(env), func(addr string) bool {
		h, p, _ := net.SplitHostPort(addr)
		return p == hostPort && (h == "127.0.0.1" || h == "localhost")
	}) {
		t.Errorf("KAFKA_ADVERTISED_LISTENERS = %q: none on 127.0.0.1:%s for clients on the host", env["KAFKA_ADVERTISED_LISTENERS"], hostPort)
	}
}

func TestComposeAPIServer(t *testing.T) {
	c := loadCompose(t)
	api := c.service(t, apiserverName)
	native := loadStack(t)

	t.Run("depends on every infra service being healthy", func(t *testing.T) {
		for _, s := range composeServices {
			if !s.infra {
				continue
			}
			if cond, ok := api.DependsOn[s.name]; !ok || cond != healthyCond {
				t.Errorf("depends_on %s: condition %q, want %s", s.name, cond, healthyCond)
			}
		}
	})

	t.Run("environment names", func(t *testing.T) {
		got, want := sortedKeys(api.Environment), sortedKeys(apiserverEnv)
		if !slices.Equal(got, want) {
			t.Errorf("environment %v, want %v", got, want)
		}
		// Every service address the native stack hands to the tests and tools.
		for _, name := range native.exports {
			// _BIN are tools' paths; the API and admin exports are how
			// clients reach the API server, not its own settings.
			// TRIBUTARY_ALERTMANAGER_URL is where the tests find Alertmanager;
			// the API server only receives its webhook. TRIBUTARY_KAFKA_BROKERS
			// is the cluster the tests and the demo register; the server
			// reads clusters from its database.
			clientSide := strings.HasSuffix(name, "_BIN") || name == "TRIBUTARY_API_URL" || strings.HasPrefix(name, "TRIBUTARY_ADMIN_") ||
				name == "TRIBUTARY_ALERTMANAGER_URL" || name == "TRIBUTARY_KAFKA_BROKERS"
			if _, ok := api.Environment[name]; !ok && !clientSide {
				t.Errorf("stack.sh env exports %s; the API server does not get it", name)
			}
		}
	})

	// The secrets have no default: Compose refuses to start without them,
	// and Alertmanager sends the API server the very token it checks.
	for _, secret := range []struct{ name, service string }{{jwtSecretVar, apiserverName}, {alertTokenVar, apiserverName}, {alertTokenVar, "alertmanager"}} {
		t.Run(secret.name+" is required by "+secret.service, func(t *testing.T) {
			raw := c.service(t, secret.service).Environment[secret.name]
			if !regexp.MustCompile(`^\$\{` + secret.name + `:\?[^}]+\}$`).MatchString(raw) {
				t.Errorf("%s = %q, want ${%s:?message}: Compose refuses to start without it", secret.name, raw, secret.name)
			}
			if v, err := interpolate(raw, nil); err == nil {
				t.Errorf("%s resolved to %q with the variable unset, want an error", secret.name, v)
			}
		})
	}

	// With the secrets set, every address names its service, on the port that
	// service listens on inside the Compose network.
	vars := map[string]string{jwtSecretVar: testJWTSecret, alertTokenVar: testAlertToken}
	env := map[string]string{}
	for name, raw := range api.Environment {
		env[name] = mustInterpolate(t, raw, vars)
	}
	mysqlEnv := c.service(t, "mysql").Environment
	for _, tc := range []struct {
		name  string
		want  string // host:port
		check func(t *testing.T, value string) string
	}{
		{"TRIBUTARY_HTTP_ADDR", ":" + apiserverPort, func(t *testing.T, v string) string {
			h, p, err := net.SplitHostPort(v)
			if err != nil {
				t.Fatal(err)
			}
			if h != "" && h != "0.0.0.0" && h != "::" {
				t.Errorf("listens on %q: unreachable from outside its container", h)
			}
			return ":" + p
		}},
		{"TRIBUTARY_MYSQL_DSN", "mysql:" + native.port(t, "MYSQL_PORT"), func(t *testing.T, v string) string {
			cfg, err := mysql.ParseDSN(v)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ name, got, want string }{
				{"user", cfg.User, mustInterpolate(t, mysqlEnv["MARIADB_USER"], nil)},
				{"password", cfg.Passwd, mustInterpolate(t, mysqlEnv["MARIADB_PASSWORD"], nil)},
				{"database", cfg.DBName, mustInterpolate(t, mysqlEnv["MARIADB_DATABASE"], nil)},
			} {
				if f.got != f.want {
					t.Errorf("%s %q, want the mysql service's %q", f.name, f.got, f.want)
				}
			}
			return cfg.Addr
		}},
		{"TRIBUTARY_REDIS_ADDR", "redis:" + native.port(t, "REDIS_PORT"), nil},
		{"NOMAD_ADDR", "nomad:" + native.port(t, "NOMAD_PORT"), hostOfURL},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "jaeger:" + native.port(t, "JAEGER_OTLP_HTTP_PORT"), hostOfURL},
		{"TRIBUTARY_JAEGER_QUERY_URL", "jaeger:" + native.port(t, "JAEGER_QUERY_PORT"), hostOfURL},
		{"TRIBUTARY_PUBLIC_URL", apiserverName + ":" + apiserverPort, hostOfURL},
		{"TRIBUTARY_PROMETHEUS_URL", "prometheus:" + native.port(t, "PROMETHEUS_PORT"), hostOfURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := env[tc.name]
			if !ok {
				t.Fatalf("not set")
			}
			got := v
			if tc.check != nil {
				got = tc.check(t, v)
			}
			if got != tc.want {
				t.Errorf("%s = %q: address %q, want %q (service %s)", tc.name, v, got, tc.want, apiserverEnv[tc.name])
			}
		})
	}
}

func hostOfURL(t *testing.T, v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" {
		t.Errorf("%q: want an http:// URL (%v)", v, err)
		return ""
	}
	return u.Host
}

// advertised lists the host:port addresses in KAFKA_ADVERTISED_LISTENERS.
func advertised(env map[string]string) []string {
	var out []string
	for _, l := range strings.Split(env["KAFKA_ADVERTISED_LISTENERS"], ",") {
		if _, addr, ok := strings.Cut(l, "://"); ok {
			out = append(out, addr)
		}
	}
	return out
}

// lastFlag returns the value following the last occurrence of flag in args,
// the one redis-server honours.
func lastFlag(args []string, flag string) (string, bool) {
	for i := len(args) - 2; i >= 0; i-- {
		if args[i] == flag {
			return args[i+1], true
		}
	}
	return "", false
}

// splitImage splits "repo[:tag][@digest]" into repository and tag.
func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---------------------------------------------------------------- stack.sh

// nativeStack is what the tests read from infra/stack.sh.
type nativeStack struct {
	vars    map[string]string // top-level NAME=value assignments, unexpanded
	exports []string          // the names `stack.sh env` exports
}

var (
	assignRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(\S+)$`)
	exportRE = regexp.MustCompile(`^export ([A-Z][A-Z0-9_]*)=`)
)

func loadStack(t *testing.T) nativeStack {
	t.Helper()
	f, err := os.Open(stackPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := nativeStack{vars: map[string]string{"APISERVER_PORT": apiserverPort}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := assignRE.FindStringSubmatch(sc.Text()); m != nil {
			s.vars[m[1]] = m[2]
		}
		if m := exportRE.FindStringSubmatch(sc.Text()); m != nil {
			s.exports = append(s.exports, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(s.exports) == 0 {
		t.Fatalf("%s: no `export NAME=` lines found (has `stack.sh env` changed?)", stackPath)
	}
	return s
}

// port returns the native port in stack.sh variable name.
func (s nativeStack) port(t *testing.T, name string) string {
	t.Helper()
	v := s.vars[name]
	if _, err := strconv.Atoi(v); err != nil {
		t.Fatalf("%s: %s = %q, want a port number", stackPath, name, v)
	}
	return v
}

// ---------------------------------------------------------------- compose

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Networks map[string]any            `yaml:"networks"`
	Configs  map[string]any            `yaml:"configs"`
	Secrets  map[string]any            `yaml:"secrets"`
	Name     string                    `yaml:"name"`
	Rest     map[string]any            `yaml:",inline"`
}

// composeService holds the keys the tests read; Rest collects the others.
type composeService struct {
	Image       string         `yaml:"image"`
	Build       *buildSpec     `yaml:"build"`
	Command     stringList     `yaml:"command"`
	Environment envMap         `yaml:"environment"`
	Ports       []portMapping  `yaml:"ports"`
	Volumes     []volumeMount  `yaml:"volumes"`
	Healthcheck *healthcheck   `yaml:"healthcheck"`
	DependsOn   dependsOn      `yaml:"depends_on"`
	Rest        map[string]any `yaml:",inline"`
}

// composeServiceKeys are the other service keys of the Compose specification.
var composeServiceKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`annotations attach blkio_config cap_add cap_drop cgroup
		cgroup_parent configs container_name cpu_count cpu_percent cpu_period cpu_quota
		cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec deploy develop
		device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file
		expose extends external_links extra_hosts gpus group_add hostname init ipc isolation
		label_file labels links logging mac_address mem_limit mem_reservation mem_swappiness
		memswap_limit models network_mode networks oom_kill_disable oom_score_adj pid
		pids_limit platform post_start pre_stop privileged profiles provider pull_policy
		read_only restart runtime scale secrets security_opt shm_size stdin_open
		stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket
		user userns_mode uts volumes_from working_dir`) {
		composeServiceKeys[k] = true
	}
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	if len(c.Services) == 0 {
		t.Fatalf("%s: no services", composePath)
	}
	return c
}

func (c composeFile) service(t *testing.T, name string) composeService {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("no service %q in %s", name, composePath)
	}
	return s
}

// stringList is a command: a YAML list, or a string split on spaces.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.Fields(n.Value)
		return nil
	}
	return n.Decode((*[]string)(l))
}

// envMap is an environment: a mapping, or a list of NAME=value.
type envMap map[string]string

func (m *envMap) UnmarshalYAML(n *yaml.Node) error {
	*m = envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			(*m)[n.Content[i].Value] = n.Content[i+1].Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			(*m)[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	return nil
}

// dependsOn maps each dependency to its condition.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			(*d)[item.Value] = "service_started"
		}
	case yaml.MappingNode:
		var long map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		for name, dep := range long {
			if dep.Condition == "" {
				dep.Condition = "service_started"
			}
			(*d)[name] = dep.Condition
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a mapping or a list", n.Line)
	}
	return nil
}

type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*b = buildSpec{Context: n.Value, Dockerfile: "Dockerfile"}
		return nil
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

type healthcheck struct {
	Test    stringList `yaml:"test"`
	Disable bool       `yaml:"disable"`
}

func (h *healthcheck) enabled() bool {
	return h != nil && !h.Disable && len(h.Test) > 0 && h.Test[0] != "NONE"
}

// portMapping is one published port, from "[IP:]HOST:CONTAINER[/proto]" or
// the long syntax.
type portMapping struct {
	HostIP    string `yaml:"host_ip"`
	Published string `yaml:"published"`
	Target    string `yaml:"target"`
}

func (p portMapping) String() string { return p.HostIP + ":" + p.Published + ":" + p.Target }

func (p *portMapping) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		type plain portMapping
		return n.Decode((*plain)(p))
	}
	s, _, _ := strings.Cut(n.Value, "/")
	if strings.HasPrefix(s, "[") { // [IPv6]:HOST:CONTAINER
		end := strings.Index(s, "]:")
		if end < 0 {
			return fmt.Errorf("line %d: bad port %q", n.Line, n.Value)
		}
		p.HostIP, s = s[1:end], s[end+2:]
	}
	parts := strings.Split(s, ":")
	switch {
	case len(parts) == 1:
		p.Target = parts[0] // a random host port on every interface
	case len(parts) == 2:
		p.Published, p.Target = parts[0], parts[1]
	case len(parts) == 3 && p.HostIP == "":
		p.HostIP, p.Published, p.Target = parts[0], parts[1], parts[2]
	default:
		return fmt.Errorf("line %d: bad port %q", n.Line, n.Value)
	}
	return nil
}

// volumeMount is one mount, from "SOURCE:TARGET[:MODE]" or the long syntax.
type volumeMount struct {
	Type   string `yaml:"type"`
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

// named reports whether the mount is a named volume (not a bind mount or
// an anonymous volume).
func (v volumeMount) named() bool {
	if v.Type != "" && v.Type != "volume" {
		return false
	}
	return v.Source != "" && !strings.ContainsAny(v.Source[:1], "/.~$")
}

func (v *volumeMount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		type plain volumeMount
		return n.Decode((*plain)(v))
	}
	parts := strings.Split(n.Value, ":")
	if len(parts) == 1 {
		v.Target = parts[0]
		return nil
	}
	v.Source, v.Target = parts[0], parts[1]
	return nil
}

// ---------------------------------------------------------------- interpolation

var varRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate expands a value as Compose (and the shell, for stack.sh's
// assignments) would with the variables in vars set and no others:
// $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
// ${VAR?error}, ${VAR:+alt}, ${VAR+alt}.
func interpolate(s string, vars map[string]string) (string, error) {
	var errs []error
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := varRE.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		if name == "" {
			name = sub[4]
		}
		v, set := vars[name]
		unsetOrEmpty := !set || v == ""
		switch op {
		case ":-":
			if unsetOrEmpty {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?", "?":
			if (op == ":?" && unsetOrEmpty) || (op == "?" && !set) {
				errs = append(errs, fmt.Errorf("%s: %s", name, arg))
			}
		case ":+":
			if unsetOrEmpty {
				return ""
			}
			return arg
		case "+":
			if !set {
				return ""
			}
			return arg
		}
		return v
	})
	return out, errors.Join(errs...)
}

func mustInterpolate(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	v, err := interpolate(s, vars)
	if err != nil {
		t.Fatalf("interpolating %q: %v", s, err)
	}
	return v
}
