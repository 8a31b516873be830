package leaderprobe

import (
	"context"
	"flag"
	"fmt"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// Probe is the leader probe: its entry in the registry of every probe
// (allprobes.Registry).
var Probe = checkscript.Probe{
	Name:    "leader",
	Label:   "LEADER",
	Summary: "The Consul cluster has a raft leader (CRITICAL without one, UNKNOWN when the agent does not answer).",
	Define: func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		c := &leaderCheck{}
		checkscript.StringFlag(fs, &c.consul.Addr, "H", "hostname", "",
			"Consul HTTP API: host[:port] or URL (default $CONSUL_HTTP_ADDR, else "+consulstatus.DefaultAddr+")")
		return func() (checkscript.Check, error) { return c, nil }
	},
}

// leaderCheck asks a Consul agent for the cluster's raft leader. Consul's
// /v1/status/leader answers 200 with "" when the cluster has lost quorum, so
// an HTTP check on it stays passing exactly when it should fail.
type leaderCheck struct {
	consul consulstatus.Client
}

func (c *leaderCheck) Run(ctx context.Context) checkscript.Result {
	ctx, cancel, timeout := checkscript.WithDeadline(ctx)
	defer cancel()
	leader, err := c.consul.Leader(ctx)
	switch {
	case consulstatus.Classify(err) == consulstatus.NoLeader:
		return leaderResult(checkscript.Critical, fmt.Sprintf("no cluster leader: Consul at %s answers %s", c.consul.Where(), checkscript.ErrText(err)))
	case err != nil && ctx.Err() != nil:
		return leaderResult(checkscript.Unknown, fmt.Sprintf("Consul at %s did not answer within %s seconds", c.consul.Where(), checkscript.FormatFloat(checkscript.Seconds(timeout))))
	case err != nil:
		return leaderResult(checkscript.Unknown, fmt.Sprintf("cannot ask Consul at %s: %s", c.consul.Where(), checkscript.ErrText(err)))
	case leader == "":
		return leaderResult(checkscript.Critical, fmt.Sprintf("no cluster leader: Consul at %s knows none (lost quorum?)", c.consul.Where()))
	}
	return leaderResult(checkscript.OK, "cluster leader is "+leader)
}

// leaderResult leaves Steady empty: the line names the leader or the
// failure, and measures nothing, so it is stored as it is.
func leaderResult(s checkscript.Status, summary string) checkscript.Result {
	return checkscript.Result{Label: "LEADER", Status: s, Summary: summary}
}
