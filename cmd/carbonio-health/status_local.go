package main

import (
	"context"
	"fmt"
	"math"

	"github.com/hashicorp/consul/api"
)

// Where `status` read a check: the local agent holds the freshest output of
// its own checks, while the catalog receives an output-only change only every
// check_update_interval (5 min by default). So the agent's own node is read
// from the agent, every other node from the catalog.
const (
	// sourceAgent is the local agent's view (/v1/agent/checks).
	sourceAgent = "agent"
	// sourceCatalog is the catalog (/v1/health/...), as any node sees it.
	sourceCatalog = "catalog"
)

// checkSources says, per check (node and check ID), where it was read.
type checkSources map[string]string

func sourceKey(node, checkID string) string { return node + "\x00" + checkID }

// of returns the source of c; the catalog when not recorded.
func (s checkSources) of(c *api.HealthCheck) string {
	if src, ok := s[sourceKey(c.Node, c.CheckID)]; ok {
		return src
	}
	return sourceCatalog
}

// localHealth reads the checks of the agent's own node from the agent, and
// adds the node-level checks only the servers keep (serfHealth: whether the
// cluster sees this agent alive) from the catalog.
func localHealth(ctx context.Context, client *api.Client, node string) (api.HealthChecks, checkSources, error) {
	q := (&api.QueryOptions{}).WithContext(ctx)
	mine, err := client.Agent().ChecksWithFilterOpts("", q)
	if err != nil {
		return nil, nil, fmt.Errorf("local agent checks: %w", err)
	}
	catalog, _, err := client.Health().Node(node, q)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog checks of %s: %w", node, err)
	}
	src := checkSources{}
	out := make(api.HealthChecks, 0, len(mine)+1)
	inCatalog := make(map[string]*api.HealthCheck, len(catalog))
	for _, c := range catalog {
		inCatalog[c.CheckID] = c
	}
	for _, c := range mine {
		out = append(out, &api.HealthCheck{
			Node: node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes, Output: c.Output,
			ServiceID: c.ServiceID, ServiceName: c.ServiceName, Type: c.Type,
			ModifyIndex: agentRecency(c, inCatalog[c.CheckID]),
		})
		src[sourceKey(node, c.CheckID)] = sourceAgent
	}
	for _, c := range catalog {
		if _, local := mine[c.CheckID]; local || c.ServiceID != "" {
			continue
		}
		out = append(out, c)
		src[sourceKey(node, c.CheckID)] = sourceCatalog
	}
	return out, src, nil
}

// agentRecency is the ModifyIndex that orders the agent's check c by how
// recently its status changed (newestFirst): the catalog's, which moved when
// the agent synced that change; the newest of all when the agent holds a
// status the catalog does not have yet (a change being synced, or a check
// not synced at all).
func agentRecency(c *api.AgentCheck, synced *api.HealthCheck) uint64 {
	if synced == nil || synced.Status != c.Status {
		return math.MaxUint64
	}
	return synced.ModifyIndex
}
