package main

import (
	"context"
	"fmt"
	"io"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// DefaultFragmentStage is where the packaged daemon stages the agent config
// fragment (its unit's StateDirectory) for install-fragment.
const DefaultFragmentStage = "/var/lib/carbonio-health/fragment"

// runInstallFragment is what carbonio-health-fragment.service runs as root
// when the daemon's staged fragment changes: check it, install it into the
// agent's config dir (or remove the installed one when none is staged).
// The daemon, as its own user, cannot write there.
func runInstallFragment(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "install-fragment", stderr)
	var dirs []string
	addConfigDirFlag(fs, &dirs)
	stage := fs.String("stage", DefaultFragmentStage, "the folder where the daemon stages "+registrar.FragmentName+" (run -fragment-stage)")
	agentDir := fs.String("agent-config-dir", CarbonioAgentConfigDir, "the Consul agent's -config-dir, where the checked fragment is installed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	policy, err := installPolicy(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health install-fragment: %v\n", err)
		return 1
	}
	did, err := registrar.InstallFragment(*stage, *agentDir, policy)
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health install-fragment: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, did)
	return 0
}

// installPolicy allows what the daemon beside this binary runs: `check`
// through this executable, carbonio-health-check next to it, and the
// commands the node's declarations give script checks. Declarations that
// do not load allow no command of their own (the error is printed by the
// daemon, which cannot run them either).
func installPolicy(dirs []string) (registrar.InstallPolicy, error) {
	self, err := resolveSelf("")
	if err != nil {
		return registrar.InstallPolicy{}, fmt.Errorf("cannot find this executable: %w", err)
	}
	p := registrar.InstallPolicy{Self: self.Self, Light: self.Light}
	opts := loadOptions(dirs)
	opts.DeferPresence = true // a folder that appears later may bring its checks
	plan, err := hcl.Load(opts)
	if err != nil {
		return p, nil
	}
	p.Commands = registrar.DeclaredCommands(plan)
	return p, nil
}
