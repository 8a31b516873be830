package main

import (
	"context"
	"io"

	"github.com/zextras/carbonio-health/checkscript"
)

// runCheck is `carbonio-health check`: one probe of checkscript, answered as
// a Nagios plugin.
func runCheck(ctx context.Context, args []string, stdout, _ io.Writer) int {
	return checkscript.Main(ctx, args, stdout)
}
