// Command carbonio-health-check runs the light probes (checkscript.Light:
// disk, load, socket, tcp without TLS, users) as `carbonio-health check`
// does: the binary the Consul agent execs for their script checks. It links
// checkscript and nothing else (no Consul API client, no HCL, none of the
// other probes' libraries, no crypto/tls), so an exec starts little more
// than a Go program does; see checkscript/README.md ("Light and heavy probes") for what that saves.
// The other probes, and tcp with TLS, run in `carbonio-health check`.
//
// It takes the command line of `carbonio-health check`, with or without the
// leading "check": `carbonio-health-check check disk -w 20% -p /` and
// `carbonio-health-check disk -w 20% -p /` are the same.
//
// It installs no signal handler: signal.Notify starts a goroutine and a
// thread, about a quarter of a minimal Go program's exec, and a probe killed
// by the agent's timeout has nothing to clean up (its -t answers first).
package main

import (
	"context"
	"os"

	"github.com/zextras/carbonio-health/checkscript"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "check" {
		args = args[1:]
	}
	os.Exit(checkscript.Light.MainAs(context.Background(), "carbonio-health-check", args, os.Stdout))
}
