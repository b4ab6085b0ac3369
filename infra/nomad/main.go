// Command nomad is Nomad v1.6.3's own CLI (agent included), built from the Go
// module proxy so the local stack needs no download of a prebuilt binary.
package main

import (
	"fmt"
	"os"

	// These packages have init functions that look at os.Args and take over
	// the process when Nomad re-executes itself as a task helper (executor,
	// logmon, artifact getter). They must be imported, as in Nomad's main.
	_ "github.com/hashicorp/nomad/client/allocrunner/taskrunner/getter"
	_ "github.com/hashicorp/nomad/client/logmon"
	_ "github.com/hashicorp/nomad/drivers/docker/docklog"
	_ "github.com/hashicorp/nomad/drivers/shared/executor"

	"github.com/hashicorp/nomad/command"
	"github.com/hashicorp/nomad/version"
	"github.com/mitchellh/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	meta := new(command.Meta)
	meta.SetupUi(args)
	agentUI := &cli.BasicUi{Reader: os.Stdin, Writer: os.Stdout, ErrorWriter: os.Stderr}

	c := &cli.CLI{
		Name:       "nomad",
		Version:    version.GetVersion().FullVersionNumber(true),
		Args:       args,
		Commands:   command.Commands(meta, agentUI),
		HelpFunc:   cli.BasicHelpFunc("nomad"),
		HelpWriter: os.Stdout,
		HiddenCommands: []string{
			"executor", "logmon", "docker_logger", "syslog",
		},
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error executing CLI: %s\n", err)
		return 1
	}
	return code
}
