package smoke

// TestComposeReferences checks what docker-compose.yml points at without an
// engine to follow it: the files it builds from and mounts, the files its
// Dockerfiles copy, and that every variable it or a Dockerfile gives the
// API server is one of the server's settings (apiserver/config).

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-etl/tributary/apiserver/config"
)

// repoRoot is where docker-compose.yml is; its relative paths start there.
const repoRoot = "../.."

func TestComposeReferences(t *testing.T) {
	c := loadCompose(t)
	settings := map[string]bool{}
	for _, v := range config.Vars {
		settings[v.Name] = true
	}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		t.Run(name, func(t *testing.T) {
			for _, v := range s.Volumes {
				if v.named() || v.Source == "" {
					continue
				}
				if !strings.HasPrefix(v.Source, "./") {
					t.Errorf("bind mount %q: want a path relative to the repository (./...)", v.Source)
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, v.Source)); err != nil {
					t.Errorf("bind mount of %s: %v", v.Source, err)
				}
			}
			// Every variable the API server (the built service) gets, and
			// every TRIBUTARY_ one another service gets (Alertmanager: the
			// server's webhook token), is a setting the server reads.
			for env := range s.Environment {
				if (s.Build != nil || strings.HasPrefix(env, "TRIBUTARY_")) && !settings[env] {
					t.Errorf("environment %s: not an API server setting (apiserver/config.Vars)", env)
				}
			}
			if s.Build == nil {
				return
			}
			ctx := filepath.Join(repoRoot, s.Build.Context)
			df := loadDockerfile(t, filepath.Join(ctx, s.Build.Dockerfile))
			for _, src := range df.copySources {
				matches, err := filepath.Glob(filepath.Join(ctx, src))
				if err != nil || len(matches) == 0 {
					t.Errorf("%s: COPY %s: nothing at that path in the build context %s", s.Build.Dockerfile, src, s.Build.Context)
				}
			}
			if len(df.copySources) == 0 {
				t.Errorf("%s: no COPY from the build context found", s.Build.Dockerfile)
			}
			for env, val := range df.env {
				if !settings[env] {
					t.Errorf("%s: ENV %s is not an API server setting", s.Build.Dockerfile, env)
				}
				// A path the server is pointed at must be one the image fills.
				if path.IsAbs(val) && !slices.ContainsFunc(df.filled, func(p string) bool { return p == val || strings.HasPrefix(val, p+"/") || strings.HasPrefix(p, val+"/") }) {
					t.Errorf("%s: ENV %s=%s: no COPY, WORKDIR or VOLUME of the final stage puts anything there (%v)", s.Build.Dockerfile, env, val, df.filled)
				}
			}
		})
	}
}

// dockerfile is what the test reads from a Dockerfile.
type dockerfile struct {
	copySources []string          // COPY sources taken from the build context (not --from)
	env         map[string]string // the final stage's ENV
	filled      []string          // absolute paths the final stage's COPY, WORKDIR and VOLUME create
}

// loadDockerfile reads the instructions the test checks, joining lines
// continued with a backslash. It knows the forms the repository uses:
// COPY [--flags] SRC... DST, ENV K=V [K=V...], WORKDIR, VOLUME, FROM.
func loadDockerfile(t *testing.T, name string) dockerfile {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	workdir := "/"
	for _, l := range lines {
		fields := strings.Fields(l)
		args := fields[1:]
		switch strings.ToUpper(fields[0]) {
		case "FROM": // a new stage: only the last one's ENV and paths count
			d.env, d.filled, workdir = map[string]string{}, nil, "/"
		case "WORKDIR":
			workdir = path.Join(workdir, args[0])
			d.filled = append(d.filled, workdir)
		case "VOLUME":
			d.filled = append(d.filled, args...)
		case "ENV":
			for _, kv := range args {
				if k, v, ok := strings.Cut(kv, "="); ok {
					d.env[k] = v
				}
			}
		case "COPY":
			fromContext := true
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				fromContext = fromContext && !strings.HasPrefix(args[0], "--from=")
				args = args[1:]
			}
			if len(args) < 2 {
				t.Fatalf("%s: %q: COPY needs a source and a destination", name, l)
			}
			dst := args[len(args)-1]
			if !path.IsAbs(dst) {
				dst = path.Join(workdir, dst)
			}
			d.filled = append(d.filled, path.Clean(dst))
			if fromContext {
				d.copySources = append(d.copySources, args[:len(args)-1]...)
			}
		}
	}
	return d
}
