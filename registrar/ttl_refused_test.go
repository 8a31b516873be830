package registrar

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestTTLUpdateRefused: the agent refuses the daemon's TTL updates, with a
// real agent. A check deregistered behind the daemon's back (404, unknown
// check ID) is registered again and fed; a token that lost service:write
// (403) is named in one log line while the agent lets the checks expire to
// critical, where they stay visible, and everything is fed again once the
// token works. In neither case does a check vanish or go quiet, and the
// daemon keeps running.
func TestTTLUpdateRefused(t *testing.T) {
	t.Run("check deregistered", func(t *testing.T) {
		n := newNodeFixture(t, consultest.Options{}, true)
		load, _ := n.declare(t, false)
		logs := &testWriter{t: t}
		// The periodic pass pushed out to an hour: what brings the check
		// back is the refused update (or the watch of the node, whichever
		// comes first), not a clock.
		d := startDaemon(t, &Daemon{Client: n.client, Log: loggerTo(t, logs), Load: load, Resync: time.Hour,
			Options: Options{Self: "/bin/true", Heartbeat: true}})
		waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
		mark := len(logs.snapshot())
		if err := n.client.Agent().CheckDeregister(sockChk); err != nil {
			t.Fatal(err)
		}
		// The socket lost at the same moment: its push is the one the
		// agent refuses (unknown check ID), and the loss must not go with
		// the check.
		gone := time.Now()
		if err := n.socket.Close(); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(n.sock)
		back := waitCheck(t, n.client, sockChk, api.HealthCritical, "is not present")
		if _, ok := owned(t, n.client)[sockID]; !ok {
			t.Error("the service vanished with its check")
		}
		consultest.Listen(t, "unix", n.sock)
		up := time.Now()
		fed := waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
		waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
		assertRunning(t, d)
		t.Logf("TTL check deregistered behind the daemon as its socket went: back, critical and naming the socket %v later (refused pushes logged: %d); passing %v after the socket came back",
			back.Sub(gone).Round(time.Millisecond), len(linesSince(logs, mark, "TTL update failed")), fed.Sub(up).Round(time.Millisecond))
	})

	t.Run("token lost service:write", func(t *testing.T) {
		n := newNodeFixture(t, consultest.Options{ACL: true}, true)
		const granted = `service_prefix "" { policy = "write" }
agent_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
`
		acl := n.client.ACL()
		p, _, err := acl.PolicyCreate(&api.ACLPolicy{Name: "daemon", Rules: granted}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := acl.TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		load, _ := n.declare(t, false)
		logs := &testWriter{t: t}
		d := startDaemon(t, &Daemon{Client: n.agent.Client(t, tok.SecretID), Log: loggerTo(t, logs), Load: load,
			Options: Options{Self: "/bin/true", Heartbeat: true}})
		waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
		waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
		mark := len(logs.snapshot())

		p.Rules = strings.Replace(granted, `policy = "write"`, `policy = "read"`, 1)
		if _, _, err := acl.PolicyUpdate(p, nil); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		refused := "consul refuses the daemon's ACL token"
		consultest.Eventually(t, "the refusal named in the log", func() bool { return len(linesSince(logs, mark, refused)) > 0 })
		named := time.Now()
		if l := linesSince(logs, mark, refused)[0]; !strings.Contains(l, `missing="service:write on `) {
			t.Errorf("the refusal does not name the missing permission: %s", l)
		}
		// The agent holds the check and lets it expire: critical, not gone.
		expired := waitCheck(t, n.client, sockChk, api.HealthCritical, "TTL expired")
		if _, ok := owned(t, n.client)[sockID]; !ok {
			t.Error("the service vanished while its token was refused")
		}
		assertRunning(t, d)

		p.Rules = granted
		if _, _, err := acl.PolicyUpdate(p, nil); err != nil {
			t.Fatal(err)
		}
		restored := time.Now()
		fed := waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
		waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
		consultest.Eventually(t, "the recovery line", func() bool {
			return len(linesSince(logs, mark, "consul accepts the daemon's ACL token again")) > 0
		})
		assertRunning(t, d)
		t.Logf("token lost service:write: named in the log %v after the change, the TTL check critical (TTL expired) %v after; passing again %v after the repair",
			named.Sub(revoked).Round(time.Millisecond), expired.Sub(revoked).Round(time.Millisecond), fed.Sub(restored).Round(time.Millisecond))
	})
}

// assertRunning fails the test if the daemon's Run returned.
func assertRunning(t *testing.T, d *runningDaemon) {
	t.Helper()
	select {
	case err := <-d.done:
		d.done <- err // for Stop in the cleanup
		t.Fatalf("the daemon ended: %v", err)
	default:
	}
}
