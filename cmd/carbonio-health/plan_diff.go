package main

import (
	"context"
	"fmt"
	"io"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// writeAgentDiff prints what `run` would change in the local agent: one
// line per service to add (+), change (~), remove (-) or left alone because
// someone else holds its ID (!). Exit 0 when nothing would change, 2 when
// something would (like `terraform plan -detailed-exitcode`), 1 on error.
func writeAgentDiff(ctx context.Context, stdout, stderr io.Writer, plan *hcl.Plan, cf *consulFlags, self string) int {
	scripts, err := resolveSelf(self)
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health plan: %v; pass -self\n", err)
		return 1
	}
	client, err := cf.client()
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health plan: %v\n", err)
		return 1
	}
	d, err := registrar.DiffAgent(ctx, client, registrar.Desired(plan, scripts))
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health plan: Consul at %s: %v\n", cf.config().Address, err)
		return 1
	}
	fmt.Fprintf(stdout, "\nAgent at %s: %d in sync, %d to add, %d to change, %d to remove.\n",
		cf.config().Address, d.InSync, len(d.Add), len(d.Change), len(d.Remove))
	for _, g := range []struct {
		mark string
		ids  []string
		why  string
	}{
		{"+", d.Add, "not in the agent"},
		{"~", d.Change, "definition differs"},
		{"-", d.Remove, "no longer declared"},
		{"!", d.Conflicts, "ID held by a service carbonio-health does not own; run leaves it alone"},
	} {
		for _, id := range g.ids {
			fmt.Fprintf(stdout, "  %s %s  (%s)\n", g.mark, id, g.why)
		}
	}
	if d.Empty() {
		return 0
	}
	return 2
}
