package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar"
)

// Freshness is decided per check, by who feeds it:
//   - a node whose agent the servers cannot reach (serfHealth critical)
//     keeps the states all its checks had when it went away: they become
//     one critical "unreachable" entry;
//   - a node whose carbonio-health daemon stopped feeding its checks (its
//     heartbeat, registrar.HeartbeatCheckID, critical: the daemon is down
//     or Consul refuses its token): the TTL checks the daemon feeds are
//     stale and become one UNKNOWN entry, while the checks its agent runs
//     itself (tcp, http, script) are as fresh as the agent and count as
//     they are. The worst wins: daemon down and SMTP down is CRITICAL,
//     naming SMTP. (With a refused token the agent cannot write the
//     daemon's API-registered services to the catalog either, so from
//     another node those keep their last states; the UNKNOWN entry still
//     keeps the answer from being OK, and the node's own status, read
//     from its agent, sees them as they are.)

// serfHealthID is the check the leader keeps for every node's agent.
const serfHealthID = "serfHealth"

// statusUnknown marks an entry status made up (a node whose checks are
// stale): not a Consul status, answered as UNKNOWN.
const statusUnknown = "unknown"

// staleNodes are the nodes whose checks `status` does not count, by name,
// with the check that says so.
type staleNodes struct {
	// dead have serfHealth critical.
	dead map[string]*api.HealthCheck
	// unfed have the daemon's heartbeat critical (and are not dead).
	unfed map[string]*api.HealthCheck
}

// readStaleNodes asks the catalog which nodes have serfHealth critical and
// which have an owned heartbeat service whose check is critical.
func readStaleNodes(ctx context.Context, cf *consulFlags) (staleNodes, error) {
	st := staleNodes{dead: map[string]*api.HealthCheck{}, unfed: map[string]*api.HealthCheck{}}
	client, err := cf.client()
	if err != nil {
		return st, err
	}
	q := (&api.QueryOptions{Filter: `CheckID == "serfHealth"`}).WithContext(ctx)
	checks, _, err := client.Health().State(api.HealthCritical, q)
	if err != nil {
		return st, consulError(cf.config().Address, err)
	}
	for _, c := range checks {
		st.dead[c.Node] = c
	}
	entries, _, err := client.Health().Service(registrar.HeartbeatServiceName, "", false, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return st, consulError(cf.config().Address, err)
	}
	for _, e := range entries {
		if e.Node == nil || !registrar.Owned(e.Service) {
			continue
		}
		st.addUnfed(e.Checks)
	}
	return st, nil
}

// addUnfed records the nodes among checks whose heartbeat is critical.
// The local node's status also reads its agent's view (fresher than the
// catalog's), and passes its checks here too.
func (st staleNodes) addUnfed(checks api.HealthChecks) {
	for _, c := range checks {
		if c.CheckID == registrar.HeartbeatCheckID && c.ServiceID == registrar.HeartbeatServiceID && c.Status == api.HealthCritical {
			if _, dead := st.dead[c.Node]; !dead {
				st.unfed[c.Node] = c
			}
		}
	}
}

// fedByDaemon reports whether the daemon feeds c (a TTL check; a check of
// unknown type counts as one: stale rather than trusted).
func fedByDaemon(c *api.HealthCheck) bool {
	return c.Type == "ttl" || c.Type == ""
}

// collapseStale replaces the stale checks of every stale node in scope by
// one entry saying so: the node's serfHealth (critical) with every check of
// a dead node, or its heartbeat (statusUnknown) with the TTL checks of an
// unfed node, and the number of stale checks it hides. The other checks of
// an unfed node (node-level ones, those its agent runs) are fresh and stay.
// Checks of other nodes pass through. With allNodes (status -node '*'),
// every stale node is reported, also one without checks in scope (a
// server).
func collapseStale(checks api.HealthChecks, st staleNodes, allNodes bool) api.HealthChecks {
	if len(st.dead) == 0 && len(st.unfed) == 0 {
		return checks
	}
	var out api.HealthChecks
	hidden := map[string]int{}
	for _, c := range checks {
		_, dead := st.dead[c.Node]
		_, unfed := st.unfed[c.Node]
		switch {
		case dead && c.CheckID != serfHealthID, unfed && c.ServiceID != "" && c.CheckID != registrar.HeartbeatCheckID && fedByDaemon(c):
			hidden[c.Node]++
		case dead || unfed:
			if _, seen := hidden[c.Node]; !seen {
				hidden[c.Node] = 0
			}
			if unfed && c.CheckID != registrar.HeartbeatCheckID {
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	if allNodes {
		for _, m := range []map[string]*api.HealthCheck{st.dead, st.unfed} {
			for n := range m {
				if _, ok := hidden[n]; !ok {
					hidden[n] = 0
				}
			}
		}
	}
	nodes := make([]string, 0, len(hidden))
	for n := range hidden {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		if d, ok := st.dead[n]; ok {
			s := *d
			s.Status = api.HealthCritical
			s.Output = fmt.Sprintf("node unreachable (serfHealth critical: %s); its %d checks are stale and not counted", checkscript.FirstLine(d.Output), hidden[n])
			out = append(out, &s)
			continue
		}
		s := *st.unfed[n]
		s.Status = statusUnknown
		s.Output = fmt.Sprintf("daemon down or its token refused; the %d checks it feeds are stale and not counted (heartbeat critical: %s)",
			hidden[n], checkscript.FirstLine(st.unfed[n].Output))
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
