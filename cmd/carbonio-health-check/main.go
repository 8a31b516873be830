// Command carbonio-health-check is `carbonio-health check` alone: the
// binary the Consul agent execs for every script check. It links
// checkscript and nothing else of carbonio-health (no Consul API client, no
// HCL), so an exec starts only what a probe uses; see the README's
// "Benchmarks" for what that saves per exec.
//
// It takes the command line of `carbonio-health check`, with or without the
// leading "check": `carbonio-health-check check disk -w 20% -p /` and
// `carbonio-health-check disk -w 20% -p /` are the same.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zextras/carbonio-health/checkscript"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "check" {
		args = args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := checkscript.Light.Main(ctx, args, os.Stdout)
	stop()
	os.Exit(code)
}
