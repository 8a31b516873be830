package consultest

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/consul/sdk/testutil/retry"
)

// readyTimeout bounds WaitReady; a healthy agent is ready in seconds.
const readyTimeout = 60 * time.Second

// WaitReady waits until the agent has a leader and its own node is in the
// catalog, so that registrations are accepted and synced, and /v1/health/*
// answers for them. An agent that exits fails the test at once.
func (a *Agent) WaitReady(t testing.TB) {
	t.Helper()
	c := a.Client(t, a.ManagementToken)
	timer := &retry.Timer{Timeout: readyTimeout, Wait: 50 * time.Millisecond}
	retry.RunWith(timer, t, func(r *retry.R) {
		a.mu.Lock()
		exited := a.exited
		a.mu.Unlock()
		select {
		case <-exited:
			r.Stop(errors.New("consul agent exited:\n" + a.Log()))
			return
		default:
		}
		leader, err := c.Status().Leader()
		if err != nil || leader == "" {
			r.Fatalf("no leader yet (%v)", err)
		}
		node, _, err := c.Catalog().Node(a.NodeName, nil)
		if err != nil || node == nil || node.Node == nil {
			r.Fatalf("node %s not in the catalog yet (%v)", a.NodeName, err)
		}
	})
}
