package main

import (
	"context"
	"io"

	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

// runCheck is `carbonio-health check`: one probe of checkscript, answered as
// a Nagios plugin.
func runCheck(ctx context.Context, args []string, stdout, _ io.Writer) int {
	return allprobes.Registry.Main(ctx, args, stdout)
}
