package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// wipeTimeout bounds how long a wiped node may take to get its services
// back before the test fails: a hang detector, not the 2 s target,
// which the tests measure and log (registrar/RELIABILITY.md).
const wipeTimeout = 60 * time.Second

// nodeBack waits until every declared check of the daemon's node is in the
// catalog (present), then until all of them pass there, and returns both
// instants.
func nodeBack(t *testing.T, admin *api.Client, d *clusterDaemon) (present, passing time.Time) {
	t.Helper()
	deadline := time.Now().Add(wipeTimeout)
	for time.Now().Before(deadline) {
		checks, _, err := admin.Health().Node(d.Node.Name, nil)
		if err == nil {
			got := map[string]string{}
			for _, c := range checks {
				got[c.CheckID] = c.Status
			}
			all, ok := true, true
			for _, id := range d.CheckIDs() {
				st, in := got[id]
				all = all && in
				ok = ok && st == api.HealthPassing
			}
			if all && present.IsZero() {
				present = time.Now()
			}
			if ok {
				return present, time.Now()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: services not back in the catalog after %v\n%s", d.Node.Name, wipeTimeout, d.Logs)
	return
}

// TestClusterClientAgentWiped: a client agent stopped, its data dir wiped,
// started again: the daemon puts every service and check back, in the agent
// and in the catalog, without a restart of its own.
func TestClusterClientAgentWiped(t *testing.T) {
	f := sharedCluster(t)
	defer f.restore(t)
	d := f.Daemons[0]
	n := d.Node
	stopped := time.Now()
	n.Stop() // SIGTERM: a client leaves the cluster, its node leaves the catalog
	defer func() { t.Logf("stop to end of test: %v", time.Since(stopped).Round(time.Millisecond)) }()
	consultest.Eventually(t, "the stopped client's node gone from the catalog", func() bool {
		node, _, err := f.Admin().Catalog().Node(n.Name, nil)
		return err == nil && node == nil
	})
	t.Logf("node left the catalog %v after the stop", time.Since(stopped).Round(time.Millisecond))
	if err := n.WipeDataDir(); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	up, err := n.WaitAPI(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	present, passing := nodeBack(t, f.Admin(), d)
	t.Logf("client %s wiped: every check in the catalog %v after the agent answered, all passing after %v",
		n.Name, present.Sub(up).Round(time.Millisecond), passing.Sub(up).Round(time.Millisecond))
}

// TestClusterLoneServerWiped: a single server (bootstrap_expect = 1, a
// single-server Carbonio) stopped, its data dir wiped, started again. The
// wipe loses the ACL state with the raft log, so the tokens are created
// again (with the same secrets) once it leads, as a setup run would. Every
// service and check is back in the catalog soon after the leader election.
func TestClusterLoneServerWiped(t *testing.T) {
	c, err := consultest.StartCluster(consultest.Binary(t), consultest.ClusterOptions{Servers: 1, RaftMultiplier: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if !t.Failed() {
			c.RemoveAll()
		}
	})
	n := c.Servers[0]
	rules, err := clusterDaemonRules(n.Name, "directory")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken("carbonio-health", rules, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := startClusterDaemon(n, "directory", tok, filepath.Join(c.Dir, n.Name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cancel(); <-d.done; d.Listener.Close() })
	nodeBack(t, c.Admin(), d)

	n.Stop()
	if err := n.WipeDataDir(); err != nil {
		t.Fatal(err)
	}
	t.Logf("agent starting at %s", time.Now().Format("15:04:05.000"))
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wipeTimeout)
	defer cancel()
	up, err := n.WaitAPI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	elected := time.Now()
	t.Logf("leader at %s", elected.Format("15:04:05.000"))
	if err := c.CreateAgentTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateToken("carbonio-health", rules, tok.SecretID); err != nil {
		t.Fatal(err)
	}
	tokens := time.Now()
	present, passing := nodeBack(t, c.Admin(), d)
	t.Logf("lone server wiped: leader %v after the API answered; tokens again %v after the election; every check in the catalog %v after the election, all passing after %v",
		elected.Sub(up).Round(time.Millisecond), tokens.Sub(elected).Round(time.Millisecond),
		present.Sub(elected).Round(time.Millisecond), passing.Sub(elected).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("daemon:\n%s", strings.Join(d.Logs.Lines(), "\n"))
	}
}
