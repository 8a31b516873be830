package registrar

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDaemonAgentFrozen: the agent frozen with SIGSTOP keeps its sockets
// open and answers nothing. The daemon neither hangs nor goes silent (every
// call to the agent is bounded: it says the agent does not answer), what
// happens meanwhile (a socket gone) is in the agent soon after SIGCONT, and
// a daemon stopped while the agent is frozen (SIGTERM: its context ends)
// returns at once, not after a hung call.
func TestDaemonAgentFrozen(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	load, _ := n.declare(t, true)
	logs := &testWriter{t: t}
	r := startDaemon(t, &Daemon{Client: n.client, Log: loggerTo(t, logs), Load: load,
		AgentConfigDir: n.agent.ConfigDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
	frozen := false
	freeze := func(sig syscall.Signal) {
		n.agent.Signal(t, sig)
		frozen = sig == syscall.SIGSTOP
	}
	t.Cleanup(func() { // before the agent's own cleanup stops it
		if frozen {
			n.agent.Signal(t, syscall.SIGCONT)
		}
	})

	mark := len(logs.snapshot())
	freeze(syscall.SIGSTOP)
	paused := time.Now()
	n.socket.Close()
	os.Remove(n.sock)
	consultest.Eventually(t, "the daemon to say the agent does not answer", func() bool {
		return len(linesSince(logs, mark, "TTL update failed")) > 0 || len(linesSince(logs, mark, "consul agent unavailable")) > 0
	})
	noticed := time.Now()
	freeze(syscall.SIGCONT)
	resumed := time.Now()
	seen := waitCheck(t, n.client, sockChk, api.HealthCritical, "is not present")
	waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	t.Logf("agent frozen: the daemon said so %v after SIGSTOP (calls bounded at %v); the socket lost meanwhile was critical in the agent %v after SIGCONT",
		noticed.Sub(paused).Round(time.Millisecond), callTimeout, seen.Sub(resumed).Round(time.Millisecond))

	freeze(syscall.SIGSTOP)
	consultest.Listen(t, "unix", n.sock) // a push to make while frozen
	time.Sleep(2 * time.Second)          // the daemon is now inside calls to the frozen agent
	stop := time.Now()
	done := make(chan error, 1)
	go func() { done <- r.Stop(t) }()
	select {
	case <-done:
	case <-time.After(exitTimeout):
		t.Fatalf("the daemon did not stop within %v while the agent was frozen", exitTimeout)
	}
	t.Logf("stopped while the agent was frozen: Run returned %v after its context ended", time.Since(stop).Round(time.Millisecond))
	freeze(syscall.SIGCONT)
}
