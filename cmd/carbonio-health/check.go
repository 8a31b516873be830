package main

import (
	"context"
	"io"

	"github.com/zextras/carbonio-health/checkscript"
)

func init() {
	commands["check"] = command{
		summary: "run one probe and answer as a Nagios plugin (exit 0/1/2/3)",
		run: func(ctx context.Context, args []string, stdout, _ io.Writer) int {
			return checkscript.Main(ctx, args, stdout)
		},
	}
}
