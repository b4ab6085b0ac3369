// Command demo deploys Tributary's demo pipeline through the API: it
// registers the local Kafka cluster, builds and registers the functions of
// functions/, saves the "demo" pipeline and deploys it, waiting until every
// worker is healthy. `make up` runs it last; run it again at any time.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tributary-etl/tributary/infra/demo"
)

func main() {
	api := flag.String("api", env("TRIBUTARY_API_URL", "http://127.0.0.1:8080"), "the API's base URL [TRIBUTARY_API_URL]")
	email := flag.String("email", env("TRIBUTARY_ADMIN_EMAIL", "admin@tributary.local"), "user to log in as [TRIBUTARY_ADMIN_EMAIL]")
	pwFile := flag.String("password-file", env("TRIBUTARY_ADMIN_PASSWORD_FILE", os.ExpandEnv("$HOME/.local/share/tributary/admin-password")), "file holding the password [TRIBUTARY_ADMIN_PASSWORD_FILE]")
	brokers := flag.String("brokers", env("TRIBUTARY_KAFKA_BROKERS", "127.0.0.1:9092"), "bootstrap server of the cluster to register [TRIBUTARY_KAFKA_BROKERS]")
	repo := flag.String("repo", ".", "the repository root, where functions/ is")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *api, *email, *pwFile, *brokers, *repo); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, api, email, pwFile, brokers, repo string) error {
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return err
	}
	c, err := demo.Login(ctx, api, email, strings.TrimSpace(string(pw)))
	if err != nil {
		return err
	}
	o := demo.Options{Repo: repo, Progress: os.Stdout}
	cluster, err := demo.EnsureCluster(ctx, c, strings.Split(brokers, ",")[0])
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	versions, err := demo.RegisterFunctions(ctx, c, o)
	if err != nil {
		return err
	}
	p, err := demo.SavePipeline(ctx, c, "demo", demo.Graph(o, versions, cluster))
	if err != nil {
		return fmt.Errorf("save the demo pipeline: %w", err)
	}
	fmt.Printf("    pipeline \"demo\" saved (id %d); deploying to Nomad\n", p.ID)
	return demo.DeployAndWait(ctx, c, p, o)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
