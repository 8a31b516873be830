package main

import (
	"context"
	"fmt"
	"io"

	"github.com/zextras/carbonio-health/hcl"
)

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "validate", stderr)
	var dirs []string
	addConfigDirFlag(fs, &dirs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	plan, err := hcl.Load(loadOptions(dirs))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	checks := 0
	for _, s := range plan.Services {
		checks += len(s.Checks)
	}
	fmt.Fprintf(stdout, "The declaration is valid: %d services with %d checks on this node, %d left out.\n",
		len(plan.Services), checks, len(plan.Skipped))
	return 0
}
