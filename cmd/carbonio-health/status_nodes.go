package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
)

// A node whose agent the servers cannot reach (serfHealth critical) keeps
// its checks in the catalog with the states they had when it went away:
// they are stale, neither a pass nor a failure. `status` answers for such a
// node with one critical "unreachable" entry instead.

// serfHealthID is the check the leader keeps for every node's agent.
const serfHealthID = "serfHealth"

// unreachableNodes asks the catalog which nodes have serfHealth critical.
func unreachableNodes(ctx context.Context, cf *consulFlags) (map[string]*api.HealthCheck, error) {
	client, err := cf.client()
	if err != nil {
		return nil, err
	}
	q := (&api.QueryOptions{Filter: `CheckID == "serfHealth"`}).WithContext(ctx)
	checks, _, err := client.Health().State(api.HealthCritical, q)
	if err != nil {
		return nil, consulError(cf.config().Address, err)
	}
	dead := map[string]*api.HealthCheck{}
	for _, c := range checks {
		dead[c.Node] = c
	}
	return dead, nil
}

// collapseUnreachable replaces the checks of every unreachable node in scope
// by one critical check saying so (its serfHealth, with the number of
// stale checks it hides). Checks of reachable nodes pass through. With
// allNodes (status -node '*'), every unreachable node is reported, also one
// without checks in scope (a server).
func collapseUnreachable(checks api.HealthChecks, dead map[string]*api.HealthCheck, allNodes bool) api.HealthChecks {
	if len(dead) == 0 {
		return checks
	}
	var out api.HealthChecks
	hidden := map[string]int{}
	for _, c := range checks {
		if _, ok := dead[c.Node]; !ok {
			out = append(out, c)
			continue
		}
		if c.CheckID != serfHealthID {
			hidden[c.Node]++
		} else if _, seen := hidden[c.Node]; !seen {
			hidden[c.Node] = 0
		}
	}
	if allNodes {
		for n := range dead {
			if _, ok := hidden[n]; !ok {
				hidden[n] = 0
			}
		}
	}
	nodes := make([]string, 0, len(hidden))
	for n := range hidden {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		s := *dead[n]
		s.Status = api.HealthCritical
		s.Output = fmt.Sprintf("node unreachable (serfHealth critical: %s); its %d checks are stale and not counted", checkscript.FirstLine(dead[n].Output), hidden[n])
		out = append(out, &s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].CheckID < out[j].CheckID
	})
	return out
}
