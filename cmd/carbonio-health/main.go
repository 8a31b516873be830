// Command carbonio-health registers the endpoints of a Carbonio node as Consul
// services with checks, keeps them true, runs Nagios-compatible checks, and
// reads health back out of Consul for external monitoring.
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/zextras/carbonio-health/checkscript"
)

// version is stamped by the Makefile (-ldflags -X main.version=…).
var version = "dev"

// command is one subcommand: one line of help and the function that runs it.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is the command table: every subcommand by name, each run
// function in its own file.
var commands = map[string]command{
	"check":            {"run one probe and answer as a Nagios plugin (exit 0/1/2/3)", runCheck},
	"deregister":       {"remove every service this tool registered from the local Consul agent, and nothing else", runDeregister},
	"install-fragment": {"(root, run by carbonio-health-fragment.service) check the agent config fragment the daemon staged and install it into the agent's config dir", runInstallFragment},
	"plan":             {"print every service and check that would be registered, and why others are not", runPlan},
	"run":              {"the node daemon: register the declared services in the local Consul agent and keep them true", runDaemon},
	"setup":            {"create or update the daemon's least-privilege ACL policy and token (or -read-only: the status token), from a management token", runSetup},
	"status":           {"read Consul's health for a node, role, service or check; answer as a Nagios plugin, JSON or Zabbix discovery", runStatus},
	"validate":         {"check the declarations; print diagnostics and exit 1 on error", runValidate},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	if args[0] == "version" || args[0] == "-version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "carbonio-health", version)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		names := append(slices.Sorted(maps.Keys(commands)), "version")
		fmt.Fprintf(stderr, "carbonio-health: unknown command %q%s\n\n", args[0], checkscript.DidYouMean(args[0], names))
		usage(stderr)
		return 2
	}
	return cmd.run(context.WithValue(ctx, commandKey{}, cmd), args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: carbonio-health <command> [flags]\n\nCommands:")
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "  version          print the version\n\nRun `carbonio-health <command> -h` for a command's flags.\nRead more: "+manPage)
}
