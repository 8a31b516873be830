package checkscript

import (
	"context"
	"flag"
	"fmt"
)

// leaderProbe is the leader probe's entry in the registry (probes).
var leaderProbe = Probe{
	Name:    "leader",
	Label:   "LEADER",
	Summary: "The Consul cluster has a raft leader (CRITICAL without one, UNKNOWN when the agent does not answer).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		c := &leaderCheck{}
		StringFlag(fs, &c.consul.addr, "H", "hostname", "",
			"Consul HTTP API: host[:port] or URL (default $CONSUL_HTTP_ADDR, else "+DefaultConsulAddr+")")
		return func() (Check, error) { return c, nil }
	},
}

// leaderCheck asks a Consul agent for the cluster's raft leader. Consul's
// /v1/status/leader answers 200 with "" when the cluster has lost quorum, so
// an HTTP check on it stays passing exactly when it should fail.
type leaderCheck struct {
	consul consulStatus
}

func (c *leaderCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	leader, err := c.consul.leader(ctx)
	switch {
	case err != nil && noLeaderAnswer(err):
		return leaderResult(Critical, fmt.Sprintf("no cluster leader: Consul at %s answers %s", c.consul.where(), ErrText(err)))
	case err != nil && ctx.Err() != nil:
		return leaderResult(Unknown, fmt.Sprintf("Consul at %s did not answer within %s seconds", c.consul.where(), FormatFloat(Seconds(timeout))))
	case err != nil:
		return leaderResult(Unknown, fmt.Sprintf("cannot ask Consul at %s: %s", c.consul.where(), ErrText(err)))
	case leader == "":
		return leaderResult(Critical, fmt.Sprintf("no cluster leader: Consul at %s knows none (lost quorum?)", c.consul.where()))
	}
	return leaderResult(OK, "cluster leader is "+leader)
}

func leaderResult(s Status, summary string) Result {
	return Result{Label: "LEADER", Status: s, Summary: summary}
}
