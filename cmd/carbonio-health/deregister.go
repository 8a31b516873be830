package main

import (
	"context"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/registrar"
)

func runDeregister(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "deregister", stderr)
	cf := addConsulFlags(fs)
	defer cf.close()
	cf.defaultTokenFile = DaemonTokenFile
	agentDir := fs.String("agent-config-dir", "", "the Consul agent's -config-dir; its "+registrar.FragmentName+" is removed too (default "+CarbonioAgentConfigDir+" when it exists)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *agentDir == "" {
		*agentDir = existingDir(CarbonioAgentConfigDir)
	}
	client, err := cf.client()
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health deregister: %v\n", err)
		return 1
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "carbonio-health", Output: stderr, Level: hclog.Warn})
	out, err := registrar.DeregisterAll(ctx, client, log, *agentDir)
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health deregister: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Deregistered %d services owned by carbonio-health.\n", len(out.Deregistered))
	if out.FragmentWritten && out.Reloaded {
		fmt.Fprintf(stdout, "Removed %s/%s and reloaded the agent.\n", *agentDir, registrar.FragmentName)
	} else if out.FragmentWritten {
		fmt.Fprintf(stdout, "Removed %s/%s.\n", *agentDir, registrar.FragmentName)
	}
	// The agent answered but refused part of it (a reload, a removal).
	for _, p := range out.Problems {
		fmt.Fprintf(stderr, "carbonio-health deregister: %s\n", p)
	}
	if len(out.Problems) > 0 {
		return 1
	}
	return 0
}
