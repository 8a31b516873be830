package consultest

import (
	"testing"
	"time"
)

// readyTimeout bounds WaitReady; a healthy agent is ready in seconds.
const readyTimeout = 60 * time.Second

// WaitReady waits until the agent has a leader and its own node is in the
// catalog, so that registrations are accepted and synced, and /v1/health/*
// answers for them.
func (a *Agent) WaitReady(t testing.TB) {
	t.Helper()
	c := a.Client(t, a.ManagementToken)
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		a.mu.Lock()
		exited := a.exited
		a.mu.Unlock()
		select {
		case <-exited:
			t.Fatalf("consul agent exited:\n%s", a.Log())
		default:
		}
		leader, err := c.Status().Leader()
		if err == nil && leader != "" {
			node, _, err := c.Catalog().Node(a.NodeName, nil)
			if err == nil && node != nil && node.Node != nil {
				return
			}
			last = err
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("consul agent not ready after %v (last error: %v):\n%s", readyTimeout, last, a.Log())
}
